"""The facility API: roles, validation, no-show rates from bookings, reports over HTTP."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.bookings import policy
from backend.bookings.models import Booking
from backend.bookings.schemas import HolidayPublic, OpeningDay
from backend.database import make_engine, make_session_factory
from backend.facility.router import history_source
from backend.main import create_app
from backend.spaces.models import Site, Space
from history.base import PresencePoint
from history.facility import SqliteSource
from history.sqlite import SqliteHistory
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
def history(tmp_path):
    """A week of generated history (the plan is returned) in a SQLite history file."""
    path = tmp_path / "history.sqlite3"
    store = SqliteHistory(path, raw_retention_days=0, maintain_every_s=1e12)
    store.ensure_schema()
    plans = generate(store, month.SPACES, month.FIRST_DAY, 7)
    store.maintain(midnight_ms(month.FIRST_DAY + timedelta(days=7)))
    store.close()
    return path, plans


#: The app's privacy floor, set explicitly: zone "south" (4 desks) lies under it.
MIN_GROUP = 5


@pytest.fixture
def client(seeded, history):
    app = create_app(seeded.settings(facility_min_group=MIN_GROUP))
    app.dependency_overrides[history_source] = lambda: SqliteSource(history[0])
    with TestClient(app) as test_client:
        response = test_client.post(
            "/api/v1/facility/rollup?start=2026-09-01&end=2026-09-07",
            headers=bearer(seeded.admin_token),
        )
        assert response.status_code == 200, response.text
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
        "heatmap?start=2026-09-01&end=2026-09-07",
        "energy?day=2026-09-08",
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
    rows = {r["zone"]: r for r in body["rows"]}
    assert body["min_group"] == MIN_GROUP
    assert rows["south"]["suppressed"] and rows["south"]["utilisation"] is None
    assert 0 < rows["north"]["utilisation"] < 1
    # a caller may raise the privacy floor, never lower it
    lowered = client.get(
        "/api/v1/facility/utilisation?start=2026-09-01&end=2026-09-07&min_group=2",
        headers=headers,
    ).json()
    assert lowered["min_group"] == MIN_GROUP
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


def test_opening_hours_come_from_the_site_policy(client, seeded, history):
    """Utilisation counts the site's own opening hours and holidays, not a constant."""
    _, plans = history
    table = {0: (9.5, 16.0), 1: (9.5, 16.0), 2: (9.5, 16.0), 3: (9.5, 16.0)}  # Friday closed
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            days = [OpeningDay(weekday=d, opens=time(9, 30), closes=time(16)) for d in table]
            policy.set_opening_hours(session, "hq", days, "test")
            policy.add_holiday(session, "hq", HolidayPublic(day=date(2026, 9, 3), name="x"), "t")
    finally:
        engine.dispose()
    headers = bearer(seeded.admin_token)
    before = client.get(
        "/api/v1/facility/utilisation?start=2026-09-01&end=2026-09-07&level=floor",
        headers=headers,
    ).json()
    # The rollup counted the hours in force when it ran; rolling up again applies the new ones.
    client.post("/api/v1/facility/rollup?start=2026-09-01&end=2026-09-07", headers=headers)
    after = client.get(
        "/api/v1/facility/utilisation?start=2026-09-01&end=2026-09-07&level=floor",
        headers=headers,
    ).json()
    floor_of = {s.spec.space_id: s.floor for s in month.SPACES}
    default = month.expected_open_utilisation(
        plans, floor_of, dict.fromkeys(range(5), (7.0, 19.0)), set()
    )
    own = month.expected_open_utilisation(plans, floor_of, table, {date(2026, 9, 3)})
    for body, expected in ((before, default), (after, own)):
        rows = {r["floor"]: r for r in body["rows"]}
        for floor in ("hq-1", "hq-2"):
            assert rows[floor]["utilisation"] == pytest.approx(expected[floor], abs=0.03)
        assert rows["hq-3"]["suppressed"] and rows["hq-3"]["utilisation"] is None
    assert abs(own["hq-1"] - default["hq-1"]) > 0.03, "the two tables must tell apart"


def test_csv_exports_have_a_header_and_content_type(client, seeded):
    headers = bearer(seeded.admin_token)
    for report, header in (
        ("utilisation", "site,floor,spaces,utilisation,peak,suppressed"),
        ("heatmap", "site,floor,weekday,hour,occupancy,suppressed"),
        ("trend", "site,floor,week,utilisation,suppressed"),
    ):
        response = client.get(
            f"/api/v1/facility/{report}?start=2026-09-01&end=2026-09-07&format=csv",
            headers=headers,
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        lines = response.text.splitlines()
        assert lines[0] == header and len(lines) > 1
        rows = list(csv.DictReader(io.StringIO(response.text)))
        small = [r for r in rows if r["floor"] == "hq-3"]
        assert small and all(r["suppressed"] == "True" for r in small)
        value = "utilisation" if report != "heatmap" else "occupancy"
        assert all(r[value] == "" for r in small)  # suppressed: empty, never a number
        if report == "utilisation":
            assert all(r["peak"] == "" for r in small)
            shown = [r for r in rows if r["suppressed"] == "False"]
            assert shown and all(float(r["peak"]) >= float(r["utilisation"]) for r in shown)


def test_heatmap_cells_match_the_plan(client, seeded, history):
    _, plans = history
    body = client.get(
        "/api/v1/facility/heatmap?start=2026-09-01&end=2026-09-07&level=floor",
        headers=bearer(seeded.admin_token),
    ).json()
    cells = {(r["floor"], r["weekday"], r["hour"]): r for r in body["rows"]}
    floor_of = {s.spec.space_id: s.floor for s in month.SPACES}
    members = [s for s, f in floor_of.items() if f == "hq-1"]
    day = date(2026, 9, 2)  # the only Wednesday of the week
    for hour in (9, 11, 14):
        busy = sum(month.overlap(plans[day][s], hour * 3600, (hour + 1) * 3600) for s in members)
        expected = busy / (3600 * len(members))
        assert cells[("hq-1", 2, hour)]["occupancy"] == pytest.approx(expected, abs=0.08)
    assert all(c["occupancy"] is None for k, c in cells.items() if k[0] == "hq-3")
    assert not any(k[2] < 7 or k[2] >= 19 for k in cells)  # outside opening hours: no cells


def test_a_cleaner_marks_a_space_cleaned(seeded, people, tmp_path):
    """Live list: a used desk is on it; after "cleaned" it is skipped until used again."""
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            desk = session.scalars(
                select(Space).where(Space.site_id == "hq", Space.kind == "desk")
            ).first()
            assert desk is not None
            desk_id, floor = desk.id, desk.floor_id
    finally:
        engine.dispose()
    now = int(datetime.now(UTC).timestamp() * 1000)
    midnight = midnight_ms(datetime.now(ZoneInfo("Europe/Amsterdam")).date())  # hq's zone
    elapsed = now - midnight  # presence from 10 % to 50 % of today so far, then vacant
    path = tmp_path / "history.sqlite3"
    store = SqliteHistory(path, raw_retention_days=0, maintain_every_s=1e12)
    store.ensure_schema()
    store.write_points(
        [
            PresencePoint(
                site="hq", device="node-x", time_ms=midnight + elapsed * share // 10,
                occupied=occupied, seq=i, boot=1, source="radar", clock_corrected=False,
                space=desk_id, kind="desk", floor=floor,
            )
            for i, (share, occupied) in enumerate(((1, True), (3, True), (5, False)))
        ]
    )  # fmt: skip
    store.close()
    limit = elapsed * 0.2 / 60_000  # the desk was used 0.4 of the elapsed time
    app = create_app(seeded.settings())
    app.dependency_overrides[history_source] = lambda: SqliteSource(path)
    cleaner = people("facility")
    with TestClient(app) as client:
        url = f"/api/v1/facility/cleaning?site=hq&floor={floor}&min_minutes={limit}"
        before = client.get(url, headers=bearer(cleaner.token)).json()
        assert before["live"] is True
        assert [e["space"] for e in before["clean"]] == [desk_id]
        assert before["clean"][0]["occupied_minutes"] == pytest.approx(
            elapsed * 0.4 / 60_000, abs=0.01
        )
        employee = people("employee")
        refused = client.post(
            f"/api/v1/facility/cleaning/{desk_id}/cleaned", headers=bearer(employee.token)
        )
        assert refused.status_code == 403
        missing = client.post(
            "/api/v1/facility/cleaning/nope/cleaned", headers=bearer(cleaner.token)
        )
        assert missing.status_code == 404 and missing.json()["reason"] == "space_not_found"
        marked = client.post(
            f"/api/v1/facility/cleaning/{desk_id}/cleaned", headers=bearer(cleaner.token)
        )
        assert marked.status_code == 201, marked.text
        after = client.get(url, headers=bearer(cleaner.token)).json()
        assert after["clean"] == []
        assert [e["space"] for e in after["skip"]] == [desk_id]
        assert after["skip"][0]["last_cleaned_ms"] is not None


def test_booked_versus_used_and_quiet_desks(client, seeded, history):
    """Bookings from a plan, walk-ins from the generated history, both checked against plans."""
    _, plans = history
    expected_rate = _book_from_plan(seeded.url)
    headers = bearer(seeded.admin_token)
    body = client.get(
        "/api/v1/facility/booked-vs-used?start=2026-09-01&end=2026-09-07", headers=headers
    ).json()
    rows = {(r["site"], r["kind"]): r for r in body["rows"]}
    desks = rows[("hq", "desk")]
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            hq_desks = session.scalars(
                select(Space).where(Space.site_id == "hq", Space.kind == "desk")
            ).all()
            quiet_desks = sum(d.quiet for d in hq_desks)
            week = [b for b in session.scalars(select(Booking)).all()
                    if b.space_kind == "desk" and b.local_day <= date(2026, 9, 7)]  # fmt: skip
    finally:
        engine.dispose()
    assert desks["bookings"] == len(hq_desks) * 5 == len(week)  # Tue-Fri and Monday
    assert desks["no_shows"] == sum(b.end_reason == "no_show" for b in week)
    assert desks["no_show_rate"] == pytest.approx(desks["no_shows"] / desks["bookings"])
    assert desks["checked_in"] + desks["no_shows"] == desks["bookings"]
    assert 0 < expected_rate < 1
    # The generated history has other space ids than the registry: all its use is walk-in.
    kind_of = {s.spec.space_id: s.spec.kind for s in month.SPACES}
    minutes = {
        (space, day): sum(p.end - p.start for p in intervals) / 60
        for day, plan in plans.items()
        for space, intervals in plan.items()
        if kind_of[space] == "desk"
    }
    sure = sum(1 for m in minutes.values() if m >= 25)
    possible = sum(1 for m in minutes.values() if m >= 5)
    assert sure <= desks["walk_ins"] <= possible and sure > 0
    quiet = client.get(
        "/api/v1/facility/quiet-desks?start=2026-09-01&end=2026-09-07", headers=headers
    ).json()
    hq = next(r for r in quiet["rows"] if r["site"] == "hq")
    assert hq["days"] == 5  # Monday to Friday by the default opening hours
    # every hq desk was booked on every open day: demand meets supply each day
    assert hq["supply"] == quiet_desks >= month.K
    assert hq["peak_demand"] == quiet_desks and hq["full_days"] == 5
    assert hq["average_demand"] == pytest.approx(quiet_desks)


def test_utilisation_peak_is_the_busiest_opening_hour_of_the_plan(client, seeded, history):
    """The peak next to the average: the highest hourly share in opening time (07-19 default)."""
    _, plans = history
    body = client.get(
        "/api/v1/facility/utilisation?start=2026-09-01&end=2026-09-07&level=floor",
        headers=bearer(seeded.admin_token),
    ).json()
    rows = {r["floor"]: r for r in body["rows"]}
    for floor in ("hq-1", "hq-2"):
        members = [s.spec.space_id for s in month.SPACES if s.floor == floor]
        expected = max(
            sum(month.overlap(plans[day][s], h * 3600, (h + 1) * 3600) for s in members)
            / (3600 * len(members))
            for day in plans
            if day.weekday() < 5
            for h in range(7, 19)
        )
        assert rows[floor]["peak"] == pytest.approx(expected, abs=0.08)
        assert rows[floor]["peak"] > rows[floor]["utilisation"]
    assert rows["hq-3"]["peak"] is None  # too few spaces: hidden like the average


def test_a_site_abroad_is_reported_in_its_own_zone(seeded, tmp_path):
    """hq moved to New York: its days, hours and cleaning list follow New York time."""
    ny = ZoneInfo("America/New_York")
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            site = session.get(Site, "hq")
            assert site is not None
            site.timezone = ny.key
            session.commit()
    finally:
        engine.dispose()
    day = date(2026, 9, 2)  # a Wednesday
    placed = [replace(s, tz=ny) for s in month.SPACES]
    path = tmp_path / "history.sqlite3"
    store = SqliteHistory(path, raw_retention_days=0, maintain_every_s=1e12)
    store.ensure_schema()
    plans = generate(store, placed, day, 1)
    store.maintain(midnight_ms(day + timedelta(days=2)))
    store.close()
    app = create_app(seeded.settings())
    app.dependency_overrides[history_source] = lambda: SqliteSource(path)
    headers = bearer(seeded.admin_token)
    with TestClient(app) as client:
        rolled = client.post(
            "/api/v1/facility/rollup?start=2026-09-02&end=2026-09-02", headers=headers
        )
        assert rolled.status_code == 200, rolled.text
        cells = client.get(
            "/api/v1/facility/heatmap?start=2026-09-02&end=2026-09-02&level=site", headers=headers
        ).json()["rows"]
        cleaning = client.get(
            "/api/v1/facility/cleaning?day=2026-09-02&site=hq&min_minutes=0.01", headers=headers
        ).json()
    # default opening hours 07:00-19:00, New York time; in Dutch time they would be 13-24
    assert {c["hour"] for c in cells if c["site"] == "hq"} == set(range(7, 19))
    assert all(c["weekday"] == 2 for c in cells)
    desks = {s.spec.space_id for s in month.SPACES if s.spec.kind == "desk"}
    expected = sorted(s for s, parts in plans[day].items() if s in desks and parts)
    assert sorted(e["space"] for e in cleaning["clean"] if e["space"] in desks) == expected
    assert len(cleaning["clean"]) + len(cleaning["skip"]) == len(month.SPACES)
