"""A database used like a real one, then the retention job a year ahead: no person is left.

Users book, check in, subscribe a calendar feed, log in by password and by OpenID
Connect, change preferences; facility cancels a booking. After ``run_retention`` 400
days later, every column of every table (reflected from the database, so tables
the models forget are scanned too) is searched for each user's id and username.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from backend.database import make_engine, make_session_factory
from backend.main import create_app
from backend.people import audit
from backend.privacy.retention import run_retention
from backend.spaces.models import utcnow
from tests.backend.conftest import always_open, bearer
from tests.backend.test_bookings_api import AMS, local_range
from tests.backend.test_people import AUDIENCE, ISSUER, Idp

PASSWORD = "correct horse battery"


@dataclass
class Used:
    """A used database: its URL and each person's id and username."""

    url: str
    people: dict[str, int]
    client: TestClient
    tokens: dict[str, str]


def traces(url: str, user_id: int, username: str, *, skip_account: bool = True) -> list[str]:
    """Every place in the database that still points at the person, as ``table.column``.

    Integer columns count when they reference ``app_user``; text columns when they
    hold the username or name the id (``user:7``, ``"user_id": 7``, or a ``user``
    audit object ``7``). The person's own ``app_user`` row is skipped on request.
    """
    engine = make_engine(url)
    found: list[str] = []
    id_text = re.compile(rf'(user:{user_id}\b|"user_id"\s*:\s*{user_id}\b)')
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                for row in conn.execute(sa.select(table)).mappings():
                    if table.name == "app_user" and skip_account and row["id"] == user_id:
                        continue
                    found += _row_traces(table, dict(row), user_id, username, id_text)
    finally:
        engine.dispose()
    return found


def _row_traces(
    table: sa.Table, row: dict[str, Any], uid: int, name: str, id_text: re.Pattern[str]
) -> list[str]:
    hits = []
    for column in table.columns:
        value = row[column.name]
        user_fk = any(fk.column.table.name == "app_user" for fk in column.foreign_keys)
        if user_fk and value == uid:
            hits.append(f"{table.name}.{column.name}")
        elif table.name == "app_user" and column.name == "id" and value == uid:
            hits.append("app_user.id")
        elif isinstance(value, str) and (name.lower() in value.lower() or id_text.search(value)):
            hits.append(f"{table.name}.{column.name}={value[:60]!r}")
    if table.name == "audit_log" and row.get("object_type") == "user":
        if row.get("object_id") == str(uid):
            hits.append("audit_log.object_id")
    return hits


def use_database(seeded: Any, client: TestClient, idp: Idp) -> Used:
    """Do what a working week does to the database; return who did it."""
    always_open(seeded.url)
    admin = bearer(seeded.admin_token)
    people: dict[str, int] = {}
    tokens: dict[str, str] = {}
    for name, role in (("zoe.vermeer", "employee"), ("fenna.facility", "facility")):
        made = client.post("/api/v1/users", headers=admin, json={
            "username": name, "display_name": name.title(), "email": f"{name}@gemeente.example",
            "role": role, "password": PASSWORD})  # fmt: skip
        assert made.status_code == 201, made.text
        people[name] = made.json()["id"]
        login = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        assert login.status_code == 200, login.text
        tokens[name] = login.json()["token"]
    oidc = client.post("/api/v1/auth/oidc", json={"id_token": idp.token(
        sub="emp-777", preferred_username="otto.oidc", name="Otto Oidc")})  # fmt: skip
    assert oidc.status_code == 200, oidc.text
    people["otto.oidc"] = oidc.json()["user"]["id"]
    tokens["otto.oidc"] = oidc.json()["token"]

    zoe, fenna, otto = (bearer(tokens[n]) for n in ("zoe.vermeer", "fenna.facility", "otto.oidc"))
    start, end = local_range(60)
    desk = {"space_id": "hq.1.d-001", "start": start, "end": end}
    now_booking = client.post("/api/v1/bookings", headers=zoe, json=desk)
    assert now_booking.status_code == 201, now_booking.text
    checked = client.post(f"/api/v1/bookings/{now_booking.json()['id']}/check-in",
                          headers=zoe, json={"method": "app"})  # fmt: skip
    assert checked.status_code == 200, checked.text
    tomorrow = (datetime.now(AMS) + timedelta(days=1)).date().isoformat()
    later = client.post("/api/v1/bookings", headers=zoe, json={
        "space_id": "hq.1.d-002", "date": tomorrow, "part": "morning",
        "title": "focus zoe.vermeer"})  # fmt: skip
    assert later.status_code == 201, later.text
    cancelled = client.delete(f"/api/v1/bookings/{later.json()['id']}", headers=fenna)
    assert cancelled.status_code == 200, cancelled.text
    guest = client.post("/api/v1/bookings", headers=fenna, json={
        "space_id": "hq.1.d-003", "date": tomorrow, "part": "day",
        "user_id": people["zoe.vermeer"], "guest_name": "Gast van zoe.vermeer"})  # fmt: skip
    assert guest.status_code == 201, guest.text
    room = client.post(
        "/api/v1/bookings",
        headers=otto,
        json={"space_id": "hq.1.d-004", "date": tomorrow, "part": "afternoon"},
    )
    assert room.status_code == 201, room.text
    for _ in range(2):  # subscribe, then replace the subscription URL
        assert client.post("/api/v1/me/calendar-feed", headers=zoe).status_code == 201
    assert client.delete("/api/v1/me/calendar-feed", headers=zoe).status_code == 204
    assert client.post("/api/v1/me/calendar-feed", headers=otto).status_code == 201
    assert client.delete("/api/v1/me/calendar-feed", headers=otto).status_code == 204
    for who in (zoe, otto):
        hide = client.patch("/api/v1/me", headers=who, json={"show_presence": False})
        assert hide.status_code == 200, hide.text
    # A record as an older release wrote it: the actor named the session, so the username.
    engine = make_engine(seeded.url)
    with make_session_factory(engine)() as session:
        audit.record(session, "token:session of zoe.vermeer", "user.create", "user", 999)
        session.commit()
    engine.dispose()
    return Used(seeded.url, people, client, tokens)


@pytest.fixture
def idp() -> Iterator[Idp]:
    server = Idp()
    yield server
    server.server.shutdown()


@pytest.fixture
def client(seeded: Any, idp: Idp) -> Iterator[TestClient]:
    settings = seeded.settings(oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_url=idp.url)
    with TestClient(create_app(settings)) as api:
        yield api


def test_a_year_later_no_row_points_at_anyone(seeded, client, idp):
    used = use_database(seeded, client, idp)
    for name, uid in used.people.items():  # the scan does find people before retention
        assert traces(used.url, uid, name), name
    engine = make_engine(used.url)
    with make_session_factory(engine)() as session:
        done = run_retention(session, utcnow() + timedelta(days=400), days=30)
    engine.dispose()
    assert done.bookings_deleted >= 4 and done.tokens_deleted >= 6 and done.audit_deleted >= 5
    for name, uid in used.people.items():
        assert traces(used.url, uid, name) == [], name
    # The accountability stays: records of what was done, without who.
    kept = seeded.query("SELECT actor, action FROM audit_log WHERE action = 'booking.cancel'")
    assert kept == [("anonymised", "booking.cancel")]


def test_within_the_period_records_stay_linked(seeded, client, idp):
    used = use_database(seeded, client, idp)
    engine = make_engine(used.url)
    with make_session_factory(engine)() as session:
        done = run_retention(session, utcnow() + timedelta(days=20), days=30)
    engine.dispose()
    assert done.bookings_deleted == 0 and done.audit_deleted == 0
    zoe = used.people["zoe.vermeer"]
    assert any(t.startswith("booking.user_id") for t in traces(used.url, zoe, "zoe.vermeer"))
    logins = seeded.query(f"SELECT count(*) FROM audit_log WHERE action = 'login' "
                          f"AND object_id = '{zoe}'")  # fmt: skip
    assert logins == [(1,)]


def test_failed_logins_leave_nothing_a_year_later(seeded, client):
    """Whatever a mistyped password leaves (audit, attempt counters) is on the clock too."""
    name = f"typo-{uuid.uuid4().hex[:8]}"  # its own name: login limits count per username
    made = client.post("/api/v1/users", headers=bearer(seeded.admin_token), json={
        "username": name, "display_name": "Typo", "password": PASSWORD})  # fmt: skip
    assert made.status_code == 201, made.text
    uid = made.json()["id"]
    for _ in range(3):
        typo = client.post("/api/v1/auth/login", json={"username": name, "password": "typo"})
        assert typo.status_code == 401
    ok = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert ok.status_code == 200, ok.text
    assert seeded.query("SELECT count(*) FROM login_throttle")[0][0] >= 1
    assert traces(seeded.url, uid, name)
    engine = make_engine(seeded.url)
    with make_session_factory(engine)() as session:
        run_retention(session, utcnow() + timedelta(days=400), days=30)
    engine.dispose()
    assert traces(seeded.url, uid, name) == []
    assert seeded.query("SELECT count(*) FROM login_throttle") == [(0,)]  # counts are hashed
