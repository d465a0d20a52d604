"""A site in another time zone: its walk-ins and its daily rollup fall on its own local days.

hq is moved to Honolulu (UTC-10 in January, eleven hours behind the Netherlands).
Its desks are used 15:00-17:00 Honolulu time on DAY, which is 02:00-04:00 of the
next Dutch day: split at Dutch midnight they would be walk-ins, and rollup hours,
of the day after. dalfsen stays Dutch (used 10:00-12:00) as the control. Each
test runs on the SQLite history file and on a real InfluxDB.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.bookings.models import Booking
from backend.database import make_engine, make_session_factory
from backend.facility import rollup
from backend.facility.opening import DEFAULT_TZ, Opening, site_openings
from backend.facility.router import history_source
from backend.main import create_app
from backend.spaces.models import Site, Space
from history.base import PresencePoint
from history.facility import HOURS, HistorySource, InfluxSource, SqliteSource
from history.influx import InfluxHistory, backfill_hourly
from history.influx_client import InfluxClient
from history.sqlite import SqliteHistory
from tests.backend.conftest import bearer
from werkplek.history_gen import PlacedSpace, day_points
from werkplek.workday import Interval, SpaceSpec

HONOLULU = ZoneInfo("Pacific/Honolulu")
TOKYO = ZoneInfo("Asia/Tokyo")
AMS = DEFAULT_TZ
DAY = date(2030, 1, 8)  # a Tuesday
#: hq's desks (in Honolulu), in local seconds: 02:00-04:00 of the next day in the Netherlands.
AFTERNOON = Interval(15 * 3600, 17 * 3600)
#: dalfsen's desks (Dutch): the same day in both zones.
MORNING = Interval(10 * 3600, 12 * 3600)
HQ_USED, HQ_BOOKED, DALFSEN_USED = 7, 2, 5
#: Set explicitly, low enough that every row here is shown.
MIN_GROUP = 2


def ms(day: date, tz: ZoneInfo) -> int:
    """Epoch ms of local midnight of ``day`` in ``tz``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp() * 1000)


@dataclass
class Store:
    """One history backend: write raw points (hourly history derived), open the facility reader."""

    write: Callable[[list[PresencePoint]], None]
    open: Callable[[], HistorySource]


def _sqlite(path: Path) -> Store:
    def write(points: list[PresencePoint]) -> None:
        store = SqliteHistory(path, raw_retention_days=0, maintain_every_s=1e12)
        store.ensure_schema()
        store.write_points(points)
        store.maintain(ms(DAY + timedelta(days=3), AMS))  # hours of the last 8 days rolled up
        store.close()

    return Store(write, lambda: SqliteSource(path))


def _influx(url: str, database: str) -> Store:
    def write(points: list[PresencePoint]) -> None:
        store = InfluxHistory(url, database, raw_retention_days=0)
        store.ensure_schema()
        store.write_points(points)
        store.close()
        with InfluxClient(url, database, timeout_s=120) as client:
            backfill_hourly(client, ms(DAY - timedelta(days=3), AMS), ms(DAY + timedelta(3), AMS))

    return Store(write, lambda: InfluxSource(url, database))


@pytest.fixture(params=["sqlite", pytest.param("influxdb", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        yield _sqlite(tmp_path / "history.sqlite3")
    else:
        db = request.getfixturevalue("influx_db")
        yield _influx(db.url, db.database)


def _points(spaces: list[Space], tz: ZoneInfo, used: Interval) -> list[PresencePoint]:
    """One day of a node per space: heartbeats 07:00-20:00 local, occupied during ``used``."""
    out: list[PresencePoint] = []
    for space in spaces:
        placed = PlacedSpace(
            SpaceSpec(space.id, space.kind), space.site_id, space.floor_id, space.zone or "", tz
        )
        out.extend(day_points(placed, DAY, [used], 300))
    return out


def _hq_abroad(url: str) -> tuple[list[Space], list[Space]]:
    """Move hq to Honolulu and book two of its desks on DAY; returns hq's and dalfsen's desks."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            site = session.get(Site, "hq")
            assert site is not None
            site.timezone = HONOLULU.key

            def desks(site_id: str, n: int) -> list[Space]:
                query = select(Space).where(Space.site_id == site_id, Space.kind == "desk")
                return list(session.scalars(query.order_by(Space.id)).all()[:n])

            hq, dalfsen = desks("hq", HQ_USED), desks("dalfsen", DALFSEN_USED)
            assert len(hq) == HQ_USED and len(dalfsen) == DALFSEN_USED
            start = datetime(DAY.year, DAY.month, DAY.day, 15, tzinfo=HONOLULU)
            for desk in hq[:HQ_BOOKED]:
                session.add(
                    Booking(
                        space_id=desk.id, site_id="hq", space_kind="desk", guest_name="gast",
                        start_at=start, end_at=start + timedelta(hours=2), local_day=DAY,
                        status="booked",
                    )
                )  # fmt: skip
            session.commit()
            session.expunge_all()
            return hq, dalfsen
    finally:
        engine.dispose()


def _usage(client: TestClient, token: str, day: date) -> dict[tuple[str, str], dict]:
    response = client.get(
        f"/api/v1/facility/booked-vs-used?start={day}&end={day}", headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    return {(r["site"], r["kind"]): r for r in response.json()["rows"]}


def test_walk_ins_fall_on_the_sites_own_local_day(seeded, store):
    hq, dalfsen = _hq_abroad(seeded.url)
    store.write(_points(hq, HONOLULU, AFTERNOON) + _points(dalfsen, AMS, MORNING))
    settings = seeded.settings(facility_min_group=MIN_GROUP, cleaning_min_minutes=15)
    app = create_app(settings)
    app.dependency_overrides[history_source] = store.open
    with TestClient(app) as client:
        on_day = _usage(client, seeded.admin_token, DAY)
        day_after = _usage(client, seeded.admin_token, DAY + timedelta(days=1))
    desks = on_day[("hq", "desk")]
    # the booked desks were used as booked; the other five were walk-ins on Honolulu's DAY
    assert (desks["bookings"], desks["walk_ins"]) == (HQ_BOOKED, HQ_USED - HQ_BOOKED)
    assert on_day[("dalfsen", "desk")]["walk_ins"] == DALFSEN_USED
    # the Dutch day after (when the use happened in Dutch time) has none of hq's use
    assert ("hq", "desk") not in day_after and ("dalfsen", "desk") not in day_after


def test_the_daily_rollup_starts_at_the_sites_midnight(seeded, store):
    hq, dalfsen = _hq_abroad(seeded.url)
    store.write(_points(hq, HONOLULU, AFTERNOON) + _points(dalfsen, AMS, MORNING))
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            openings = site_openings(session)  # the zones come from Site.timezone
    finally:
        engine.dispose()
    assert openings["hq"].tz.key == HONOLULU.key and openings["dalfsen"].tz.key == AMS.key
    source = store.open()
    try:
        assert rollup.catch_up(source, DAY + timedelta(days=1), openings) > 0
        rows = source.day_rows(ms(DAY - timedelta(days=1), AMS), ms(DAY + timedelta(3), HONOLULU))
    finally:
        source.close()
    used = {r.group[0]: r for r in rows if any(r.occupancy)}
    assert set(used) == {"hq", "dalfsen"}
    assert {r.day_ms for r in rows if r.group[0] == "hq" and any(r.samples)} == {ms(DAY, HONOLULU)}
    assert used["hq"].day_ms == ms(DAY, HONOLULU) and used["hq"].weekday == DAY.weekday()
    # local hours of the site: 15 and 16 in Honolulu, heartbeats 07:00-20:00 Honolulu time
    assert [h for h in range(HOURS) if used["hq"].occupancy[h]] == [15, 16]
    assert [h for h in range(HOURS) if used["hq"].samples[h]] == list(range(7, 21))
    assert used["hq"].occupancy[15] == pytest.approx(HQ_USED)  # every desk the whole hour
    assert used["dalfsen"].day_ms == ms(DAY, AMS)
    assert [h for h in range(HOURS) if used["dalfsen"].occupancy[h]] == [10, 11]


def test_catch_up_reads_the_newest_day_in_the_zone_that_wrote_it(store):
    """A site east of the Netherlands: its midnight is the Dutch evening before.

    Read at Dutch time its newest rolled-up day would look one day older, and the
    catch-up would roll that day once more than it has to.
    """
    placed = [
        PlacedSpace(SpaceSpec(f"tk-{i}", "desk"), "tk", "tk-1", "hall", TOKYO) for i in range(3)
    ]
    store.write([p for s in placed for p in day_points(s, DAY, [MORNING], 300)])
    openings = {"tk": Opening(Opening.weekdays(8, 18).table, tz=TOKYO)}
    source = store.open()
    try:
        rollup.rollup_day(source, DAY, openings)
        assert source.last_rolled_day() == ms(DAY, TOKYO)
        today = DAY + timedelta(days=5)
        assert rollup.days_to_roll(source, today, openings) == [
            DAY + timedelta(days=i) for i in range(1, 6)
        ]
    finally:
        source.close()


def test_a_day_without_history_is_marked_in_the_default_zone():
    """The marker row of an empty day belongs to no site: history without a site's zone."""
    openings = {"hq": Opening(Opening.weekdays(8, 18).table, tz=HONOLULU)}
    (row,) = rollup.build_day([], DAY, openings)
    assert row.day_ms == ms(DAY, AMS) and row.spaces == 0
    assert rollup.newest_day(row.day_ms, [AMS, HONOLULU]) == DAY
    assert rollup.oldest_day(ms(DAY, AMS), [AMS, HONOLULU]) == DAY - timedelta(days=1)
    assert datetime.fromtimestamp(row.day_ms / 1000, UTC).hour == 23  # 00:00 Dutch (winter)
