"""The daily rollup: idempotent rewrites, catch-up after missed days, the clock change."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from backend.facility import rollup
from backend.facility.opening import Opening
from backend.main import create_app
from history.facility import HOURS, SqliteSource
from history.sqlite import SqliteHistory
from tests.facility import month
from tests.services import wait_until
from werkplek.history_gen import PlacedSpace, generate, midnight_ms
from werkplek.workday import SpaceSpec

OPENINGS = {"hq": Opening.weekdays(month.OPENS, month.CLOSES)}


@pytest.fixture
def week(tmp_path):
    path = tmp_path / "history.sqlite3"
    store = SqliteHistory(path, raw_retention_days=0, maintain_every_s=1e12)
    store.ensure_schema()
    generate(store, month.SPACES, month.FIRST_DAY, 7)
    store.maintain(midnight_ms(month.FIRST_DAY + timedelta(days=7)))
    store.close()
    return SqliteSource(path)


def _all(source: SqliteSource) -> list:
    lo = midnight_ms(month.FIRST_DAY)
    return source.day_rows(lo, midnight_ms(month.FIRST_DAY + timedelta(days=7)))


def test_rolling_a_day_again_overwrites_it(week):
    day = month.FIRST_DAY + timedelta(days=1)
    written = rollup.rollup_day(week, day, OPENINGS)
    first = _all(week)
    assert written == len(first) > 0
    assert rollup.rollup_day(week, day, OPENINGS) == written
    assert _all(week) == first  # same rows, not doubled
    spaces = {row.group: row.spaces for row in first}
    by_group: dict = {}
    for s in month.SPACES:
        key = ("hq", s.floor, s.zone, s.spec.kind)
        by_group[key] = by_group.get(key, 0) + 1
    assert spaces == by_group  # every node reports hourly, so the busiest hour has them all


def test_catch_up_fills_missed_days_and_rerolls_the_recent_ones(week):
    last = month.FIRST_DAY + timedelta(days=6)
    assert rollup.days_to_roll(week, last, OPENINGS) == [
        month.FIRST_DAY + timedelta(i) for i in range(7)
    ]
    assert rollup.catch_up(week, last, OPENINGS) == 7
    assert week.last_rolled_day() == midnight_ms(last)
    # a day later only the days late points may still change, plus the new one, are rolled
    again = rollup.days_to_roll(week, last + timedelta(days=1), OPENINGS)
    assert again == [last - timedelta(days=1), last, last + timedelta(days=1)]


def test_opening_sums_follow_the_site_and_its_holidays(week):
    day = month.FIRST_DAY + timedelta(days=2)  # a Thursday
    rollup.rollup_day(week, day, {"hq": Opening.weekdays(9.5, 12.0)})
    for row in [r for r in _all(week) if r.day_ms == midnight_ms(day)]:
        # 09:30-12:00: half of the 09 hour, all of 10 and 11
        weights = [0.5 if h == 9 else 1.0 if h in (10, 11) else 0.0 for h in range(HOURS)]
        expected = sum(w * v for w, v in zip(weights, row.occupancy, strict=True))
        assert row.open_occupancy == pytest.approx(expected)
        assert row.open_samples == pytest.approx(
            sum(w * n for w, n in zip(weights, row.samples, strict=True))
        )
    closed = Opening(Opening.weekdays(8, 18).table, frozenset({day}))
    rollup.rollup_day(week, day, {"hq": closed})
    rows = [r for r in _all(week) if r.day_ms == midnight_ms(day)]
    assert rows and all(r.open_samples == 0 and r.open_occupancy == 0 for r in rows)
    assert any(sum(r.samples) for r in rows)  # the hours themselves are kept


def test_the_day_the_clocks_go_back_has_25_hours():
    day = date(2026, 10, 25)
    start = midnight_ms(day)
    hours = [(("hq", "hq-1", "a", "desk"), start + h * 3_600_000, 1.0, 1) for h in range(25)]
    (row,) = rollup.build_day(hours, day, OPENINGS)
    assert sum(row.samples) == 25
    assert row.samples[2] == 2  # 02:00-03:00 happened twice
    assert row.day_ms == start and row.weekday == 6
    assert datetime.fromtimestamp(row.day_ms / 1000, OPENINGS["hq"].tz).hour == 0


def test_the_backend_catches_up_at_start(seeded, week, record_property):
    """The job in the app's lifespan rolls up every day of history without being asked."""
    settings = seeded.settings(history_path=week._path, facility_rollup_delay_s=0)
    with TestClient(create_app(settings)):  # the job reads the app's settings
        took = wait_until(lambda: len(_all(week)) > 0, 60, what="rollup at start")
        wait_until(lambda: week.last_rolled_day() is not None
                   and week.last_rolled_day() >= midnight_ms(date.today()) - 86_400_000,
                   60, what="caught up to today")  # fmt: skip
    record_property("rollup_start_s", round(took, 2))
    days = {row.day_ms for row in _all(week)}
    assert days == {midnight_ms(month.FIRST_DAY + timedelta(days=i)) for i in range(7)}


def test_a_site_abroad_is_rolled_up_in_its_own_zone(tmp_path):
    """A New York site's day starts at its own midnight and its hours are its local hours."""
    ny = ZoneInfo("America/New_York")
    abroad = [PlacedSpace(SpaceSpec(f"y{i}", "desk"), "ny", "ny-1", "hall", ny) for i in range(5)]
    day = month.FIRST_DAY + timedelta(days=1)  # a Wednesday
    path = tmp_path / "history.sqlite3"
    store = SqliteHistory(path, raw_retention_days=0, maintain_every_s=1e12)
    store.ensure_schema()
    plans = generate(store, [*month.SPACES, *abroad], day, 1)
    store.maintain(midnight_ms(day + timedelta(days=2)))
    store.close()
    source = SqliteSource(path)
    openings = {"hq": Opening.weekdays(8, 18), "ny": Opening(Opening.weekdays(8, 18).table, tz=ny)}
    rollup.rollup_day(source, day, openings)
    rows = source.day_rows(midnight_ms(day), midnight_ms(day + timedelta(days=1), ny))
    by_site = {site: [r for r in rows if r.group[0] == site] for site in ("hq", "ny")}
    (row,) = by_site["ny"]
    assert row.day_ms == midnight_ms(day, ny)  # 06:00 in Amsterdam
    assert {r.day_ms for r in by_site["hq"]} == {midnight_ms(day)}
    # heartbeats run 07:00-20:00 local, so these are the hours with data, in New York time
    assert [h for h in range(HOURS) if row.samples[h]] == list(range(7, 21))
    assert all(row.samples[h] == len(abroad) for h in range(7, 21))
    assert row.open_samples == 10 * len(abroad)  # 08:00-18:00 New York time
    plan = plans[day]
    used = [
        h for h in range(HOURS)
        if any(month.overlap(plan[s.spec.space_id], h * 3600, (h + 1) * 3600) for s in abroad)
    ]  # fmt: skip
    assert [h for h in range(HOURS) if row.occupancy[h]] == used
