"""PostgreSQL killed under the backend: 503 with a reason while it is down, served again after.

Found by the soak (``python -m bench soak``): bookings made while PostgreSQL
restarted after a SIGKILL answered 500, because a refused or dropped connection
(psycopg gives no SQLSTATE then) was not recognised as the database being away.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from backend.config import Settings
from tests.backend.conftest import always_open, bearer
from tests.services import PostgreSQL, make_tempdir, wait_until

pytestmark = pytest.mark.integration


def _seed(url: str) -> str:
    from backend.database import create_all, make_engine, make_session_factory
    from backend.people import service as people
    from backend.spaces.models import Floor, Site, Space

    engine = make_engine(url)
    create_all(engine)
    with make_session_factory(engine)() as session:
        session.add(Site(id="hq", name="HQ", kind="central_office"))
        session.flush()
        session.add(Floor(id="hq-1", site_id="hq", name="1", level=1, plan_width=1, plan_height=1))
        session.flush()
        session.add_all(
            Space(id=f"hq.1.d-{n:03d}", site_id="hq", floor_id="hq-1", kind="desk",
                  name=f"D{n}", x=0, y=0, w=1, h=1)
            for n in range(3)
        )  # fmt: skip
        session.commit()
        user = people.create_user(session, username="ann", display_name="Ann")
        token = people.issue_session(session, user, hours=1)[0]
        session.commit()
    engine.dispose()
    always_open(url, sites=("hq",), one_desk_per_day=False)
    return token


def _book(base: str, token: str, space: str) -> httpx.Response:
    start = datetime.now(UTC) + timedelta(minutes=5)
    body = {"space_id": space, "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat()}  # fmt: skip
    return httpx.post(f"{base}/api/v1/bookings", json=body, headers=bearer(token), timeout=30)


def test_bookings_answer_503_while_postgresql_is_down_and_work_after(serve):
    cluster = PostgreSQL(workdir=make_tempdir("pg-down"))
    cluster.start()
    try:
        token = _seed(cluster.url)
        server = serve(Settings(database_url=cluster.url, mqtt_enabled=False,
                                booking_check_s=3600))  # fmt: skip
        assert _book(server.base_url, token, "hq.1.d-000").status_code == 201

        cluster.kill()
        wait_until(lambda: cluster.postmaster_pid() is None or not _alive(cluster), 30,
                   what="postmaster gone")  # fmt: skip
        down = _book(server.base_url, token, "hq.1.d-001")
        assert down.status_code == 503, down.text
        assert down.json()["reason"] == "database_unavailable"
        assert down.headers["retry-after"] == "1"
        listed = httpx.get(f"{server.base_url}/api/v1/bookings", headers=bearer(token), timeout=30)
        assert listed.status_code == 503, listed.text

        cluster.resume()
        again = _book(server.base_url, token, "hq.1.d-002")
        assert again.status_code == 201, again.text
    finally:
        cluster.stop()
        shutil.rmtree(cluster.workdir, ignore_errors=True)


def _alive(cluster: PostgreSQL) -> bool:
    import os

    pid = cluster.postmaster_pid()
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
