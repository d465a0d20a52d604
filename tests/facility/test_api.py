"""The facility API: roles, validation, no-show rates from bookings, reports over HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.bookings.models import Booking
from backend.database import make_engine, make_session_factory
from backend.facility.router import facility_settings, history_source
from backend.facility.sources import SqliteSource
from backend.main import create_app
from backend.spaces.models import Space
from gateway.history.sqlite import SqliteHistory
from tests.backend.conftest import bearer
from tests.facility import month
from werkplek.history_gen import generate, midnight_ms
from werkplek.workday import SpaceSpec, plan_day

WEEKDAYS = [d for d in (date(2026, 9, 1) + timedelta(i) for i in range(14)) if d.weekday() < 5]


def _book_from_plan(url: str) -> float:
    """Book every hq desk on every weekday; a desk the plan leaves empty is a no-show.

    Returns the no-show rate of hq desks computed from the plan.
    """
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            desks = session.scalars(
                select(Space).where(Space.site_id == "hq", Space.kind == "desk")
            ).all()
            specs = [SpaceSpec(d.id, "desk") for d in desks]
            empty = total = 0
            for day in WEEKDAYS:
                plan = plan_day(specs, day, seed=7)
                start = datetime(day.year, day.month, day.day, 7, tzinfo=UTC)
                for desk in desks:
                    no_show = not plan[desk.id]
                    empty += no_show
                    total += 1
                    session.add(
                        Booking(
                            space_id=desk.id, site_id="hq", space_kind="desk",
                            guest_name="gast", start_at=start, end_at=start + timedelta(hours=8),
                            local_day=day, status="released" if no_show else "checked_in",
                            end_reason="no_show" if no_show else None,
                        )
                    )  # fmt: skip
            room = session.scalars(select(Space).where(Space.kind == "meeting_room")).first()
            assert room is not None
            for hour, status in ((9, "released"), (11, "checked_in"), (13, "cancelled")):
                start = datetime(2026, 9, 2, hour, tzinfo=UTC)
                session.add(
                    Booking(
                        space_id=room.id, site_id=room.site_id, space_kind="meeting_room",
                        guest_name="gast", start_at=start, end_at=start + timedelta(hours=1),
                        local_day=date(2026, 9, 2), status=status,
                        end_reason="no_show" if status == "released" else None,
                    )
                )  # fmt: skip
            session.commit()
    finally:
        engine.dispose()
    return empty / total


@pytest.fixture
def client(seeded, tmp_path):
    path = tmp_path / "history.sqlite3"
    store = SqliteHistory(path, raw_retention_days=0, maintain_every_s=1e12)
    store.ensure_schema()
    generate(store, month.SPACES, month.FIRST_DAY, 7)
    store.maintain(midnight_ms(month.FIRST_DAY + timedelta(days=7)))
    store.close()
    app = create_app(seeded.settings())
    app.dependency_overrides[history_source] = lambda: SqliteSource(path)
    with TestClient(app) as test_client:
        yield test_client


def test_no_show_rate_from_bookings(client, seeded):
    expected = _book_from_plan(seeded.url)
    body = client.get(
        "/api/v1/facility/no-shows?start=2026-09-01&end=2026-09-14",
        headers=bearer(seeded.admin_token),
    ).json()
    rows = {(r["site"], r["kind"]): r for r in body["rows"]}
    desks = rows[("hq", "desk")]
    assert desks["rate"] == pytest.approx(expected) and not desks["suppressed"]
    assert 0 < expected < 1
    rooms = next(r for (_, kind), r in rows.items() if kind == "meeting_room")
    assert rooms["bookings"] == 2  # the cancelled one is not counted
    assert rooms["suppressed"] and rooms["rate"] is None


@pytest.mark.parametrize(
    "query",
    [
        "utilisation?start=2026-09-01&end=2026-09-07",
        "consolidation?start=2026-09-01&end=2026-09-07",
        "no-shows?start=2026-09-01&end=2026-09-07",
        "cleaning?day=2026-09-02",
    ],
)
def test_only_facility_and_admin_may_read(client, seeded, people, query):
    url = f"/api/v1/facility/{query}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=bearer(seeded.signage_token)).status_code == 403
    employee = people("employee")
    assert client.get(url, headers=bearer(employee.token)).status_code == 403
    facility = people("facility")
    assert client.get(url, headers=bearer(facility.token)).status_code == 200


def test_reports_over_http(client, seeded):
    headers = bearer(seeded.admin_token)
    body = client.get(
        "/api/v1/facility/utilisation?start=2026-09-01&end=2026-09-07&level=zone",
        headers=headers,
    ).json()
    rows = {r["key"][-1]: r for r in body["rows"]}
    assert body["min_group"] == facility_settings().facility_min_group
    assert rows["south"]["suppressed"] and rows["south"]["utilisation"] is None
    assert 0 < rows["north"]["utilisation"] < 1
    # a caller may raise the privacy floor, never lower it
    lowered = client.get(
        "/api/v1/facility/utilisation?start=2026-09-01&end=2026-09-07&min_group=2",
        headers=headers,
    ).json()
    assert lowered["min_group"] == facility_settings().facility_min_group
    cleaning = client.get(
        "/api/v1/facility/cleaning?day=2026-09-02&min_minutes=30", headers=headers
    ).json()
    assert len(cleaning["clean"]) + len(cleaning["skip"]) == len(month.SPACES)
    assert all(e["occupied_minutes"] >= 30 for e in cleaning["clean"])
    assert all(e["occupied_minutes"] < 30 for e in cleaning["skip"])


@pytest.mark.parametrize(
    "query",
    [
        "utilisation?start=2026-09-07&end=2026-09-01",
        "utilisation?start=2025-01-01&end=2026-09-01",
        "utilisation?start=2026-09-01&end=2026-09-07&level=person",
        "utilisation?start=2026-09-01&end=2026-09-07&min_group=1",
        "consolidation?start=2026-09-01&end=2026-09-07&threshold=2",
        "cleaning?day=gisteren",
    ],
)
def test_malformed_requests_get_a_reason(client, seeded, query):
    response = client.get(f"/api/v1/facility/{query}", headers=bearer(seeded.admin_token))
    assert response.status_code == 422, response.text
    assert response.json()


def test_missing_history_is_a_clear_503(seeded, tmp_path):
    app = create_app(seeded.settings())
    app.dependency_overrides[history_source] = lambda: SqliteSource(tmp_path / "absent.sqlite3")
    with TestClient(app) as test_client:
        response = test_client.get(
            "/api/v1/facility/utilisation?start=2026-09-01&end=2026-09-07",
            headers=bearer(seeded.admin_token),
        )
    assert response.status_code == 503
    assert "history" in response.text
