"""Facility reports on a generated month of history, against figures computed from its plan."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from backend.facility import cleaning, reports, rollup, service
from backend.facility.opening import Opening
from history.facility import InfluxSource, SqliteSource
from history.influx import InfluxHistory, backfill_hourly
from history.influx_client import InfluxClient
from history.sqlite import SqliteHistory
from tests.facility import month
from werkplek.history_gen import generate, midnight_ms

OPENINGS = {"hq": Opening.weekdays(month.OPENS, month.CLOSES)}
FLOOR_OF = {s.spec.space_id: s.floor for s in month.SPACES}
ZONE_OF = {s.spec.space_id: s.zone for s in month.SPACES}
#: The rollup is a mean of samples (a heartbeat every 5 min plus every change),
#: not of time: over a month per group it stays within this of the true share.
MONTH_TOLERANCE = 0.02
#: One hour of one floor has far fewer samples.
HOUR_TOLERANCE = 0.06


@pytest.fixture(scope="module")
def sqlite_month(tmp_path_factory):
    path = tmp_path_factory.mktemp("facility") / "history.sqlite3"
    store = SqliteHistory(path, raw_retention_days=0, maintain_every_s=1e12)
    store.ensure_schema()
    plans = generate(store, month.SPACES, month.FIRST_DAY, month.DAYS)
    for week in range(1, month.DAYS // 7 + 2):  # maintain() re-rolls the last 8 days
        store.maintain(midnight_ms(month.FIRST_DAY + timedelta(days=7 * week)))
    store.close()
    source = SqliteSource(path)
    for day in month.days():
        rollup.rollup_day(source, day, OPENINGS)
    return source, plans


def _span() -> tuple[int, int]:
    return midnight_ms(month.FIRST_DAY), midnight_ms(month.FIRST_DAY + timedelta(month.DAYS))


def _check_utilisation(source, plans) -> None:
    lo, hi = _span()
    for level, group_of in (("floor", FLOOR_OF), ("zone", ZONE_OF)):
        expected = month.expected_utilisation(plans, group_of)
        busiest: dict[str, float] = {}
        for (name, _), share in month.expected_peaks(plans, group_of).items():
            busiest[name] = max(busiest.get(name, 0.0), share)
        rows = reports.utilisation(source, lo, hi, level, month.K)
        assert {r.key[-1] for r in rows} == set(expected)
        for row in rows:
            name = row.key[-1]
            size = sum(1 for g in group_of.values() if g == name)
            assert row.spaces == size
            if size < month.K:
                assert row.suppressed and row.utilisation is None and row.peak is None, row
            else:
                assert not row.suppressed
                assert row.utilisation == pytest.approx(expected[name], abs=MONTH_TOLERANCE)
                # the peak: the busiest single opening hour of the month, from the plan
                assert row.peak == pytest.approx(busiest[name], abs=HOUR_TOLERANCE)
                assert row.peak > row.utilisation
                print(f"{level} {name}: {row.utilisation:.4f} vs plan {expected[name]:.4f}")
    kinds = reports.utilisation(source, lo, hi, "kind", month.K)
    shown = {r.key[1] for r in kinds if not r.suppressed}
    assert shown == {"desk"}  # 2 meeting rooms and 1 focus room are too few to show


def test_utilisation_and_suppression_sqlite(sqlite_month):
    _check_utilisation(*sqlite_month)


def _check_consolidation(source, plans) -> None:
    lo, hi = _span()
    days = source.day_rows(lo, hi)
    expected = month.expected_peaks(plans, FLOOR_OF)
    got = service.peaks(days, "floor", openings=OPENINGS)
    assert {(key[1], weekday) for key, weekday in got} == set(expected)
    for (key, weekday), peak in got.items():
        assert peak == pytest.approx(expected[(key[1], weekday)], abs=HOUR_TOLERANCE)
    threshold = 0.55  # Friday on hq-1 stays under it in this month, busy days do not
    advice = service.consolidation(
        days, "floor", openings=OPENINGS, min_group=month.K, threshold=threshold
    )
    advised = {(a.key[1], a.weekday) for a in advice}
    assert not any(floor == "hq-3" for floor, _ in advised)  # too small to report
    sure_low = {k for k, v in expected.items() if v < threshold - HOUR_TOLERANCE and k[0] != "hq-3"}
    sure_high = {k for k, v in expected.items() if v > threshold + HOUR_TOLERANCE}
    assert sure_low and sure_high, "the month must have quiet and busy days"
    assert sure_low <= advised
    assert not sure_high & advised
    for a in advice:
        assert f"{round(a.peak * 100)} %" in a.text_nl and a.key[1] in a.text_en
    print("advice:", sorted(advised))


def test_consolidation_advice_sqlite(sqlite_month):
    _check_consolidation(*sqlite_month)


ROOM_MIN = 20.0


def _merged(intervals, lo: float = 0.0) -> list[tuple[float, float]]:
    """Plan intervals after ``lo`` (seconds), touching ones joined: one stretch of presence."""
    out: list[tuple[float, float]] = []
    for p in sorted(intervals, key=lambda p: p.start):
        start, end = max(p.start, lo), p.end
        if end <= start:
            continue
        if out and out[-1][1] >= start:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _check_cleaning(source, plans, day: date) -> None:
    lo, hi = midnight_ms(day), midnight_ms(day + timedelta(days=1))
    points = source.raw_points(lo, hi)
    noon = 12 * 3600  # half the spaces were cleaned at noon: only presence after it counts
    marks = {space: lo + noon * 1000 for i, space in enumerate(sorted(FLOOR_OF)) if i % 2}
    entries = cleaning.cleaning_list(
        points, lo, hi, min_minutes=15, room_min_minutes=ROOM_MIN, cleaned=marks
    )
    by_space = {e.space: e for e in entries}
    assert set(by_space) == set(FLOOR_OF)
    kind_of = {s.spec.space_id: s.spec.kind for s in month.SPACES}
    for space, intervals in plans[day].items():
        stretches = _merged(intervals, noon if space in marks else 0.0)
        minutes = sum(b - a for a, b in stretches) / 60
        uses = sum(1 for a, b in stretches if (b - a) / 60 >= ROOM_MIN)
        entry = by_space[space]
        assert entry.occupied_minutes == pytest.approx(minutes, abs=0.02), space
        assert entry.uses == uses, space
        if kind_of[space] == "desk":
            assert entry.clean == (minutes >= 15), space
        else:
            assert entry.clean == (uses > 0), space
    cleaned = sum(e.clean for e in entries)
    assert 0 < cleaned < len(entries), "a believable day has used and unused spaces"


def test_cleaning_list_sqlite(sqlite_month):
    source, plans = sqlite_month
    for day in (date(2026, 9, 8), date(2026, 9, 11)):  # a Tuesday and a Friday
        _check_cleaning(source, plans, day)


@pytest.mark.integration
def test_reports_against_influxdb(influx_db, record_property):
    store = InfluxHistory(influx_db.url, influx_db.database, raw_retention_days=0)
    store.ensure_schema()
    started = time.perf_counter()
    plans = generate(store, month.SPACES, month.FIRST_DAY, month.DAYS)
    lo, hi = _span()
    with InfluxClient(influx_db.url, influx_db.database, timeout_s=120) as client:
        backfill_hourly(client, lo, hi)
    record_property("seed_s", round(time.perf_counter() - started, 2))
    store.close()
    source = InfluxSource(influx_db.url, influx_db.database)
    started = time.perf_counter()
    rolled = rollup.catch_up(source, month.FIRST_DAY + timedelta(days=month.DAYS - 1), OPENINGS)
    record_property("rollup_s", round(time.perf_counter() - started, 2))
    assert rolled == month.DAYS  # catch-up starts at the oldest hourly history
    day = month.FIRST_DAY + timedelta(days=3)
    one = (midnight_ms(day), midnight_ms(day + timedelta(days=1)))
    before = source.day_rows(*one)
    assert rollup.rollup_day(source, day, OPENINGS) == len(before) > 0
    assert source.day_rows(*one) == before  # same time and series: overwritten, not added
    try:
        _check_utilisation(source, plans)
        _check_consolidation(source, plans)
        _check_cleaning(source, plans, date(2026, 9, 8))
    finally:
        source.close()


def test_no_show_rates_suppress_small_groups():
    rows = [("hq", "desk", True, 3), ("hq", "desk", False, 17), ("hq", "meeting_room", True, 4)]
    out = {r.kind: r for r in service.no_show_rates(rows, min_group=5)}
    assert out["desk"].rate == pytest.approx(3 / 20) and not out["desk"].suppressed
    assert out["meeting_room"].rate is None and out["meeting_room"].suppressed
