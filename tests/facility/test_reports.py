"""Facility reports on a generated month of history, against figures computed from its plan."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from backend.facility import service
from backend.facility.sources import InfluxSource, SqliteSource
from gateway.history.influx import InfluxHistory
from gateway.history.sqlite import SqliteHistory
from tests.facility import month
from werkplek.history_gen import backfill_influx_hourly, generate, midnight_ms

OPENING = service.Opening(opens=month.OPENS, closes=month.CLOSES)
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
    return SqliteSource(path), plans


def _span() -> tuple[int, int]:
    return midnight_ms(month.FIRST_DAY), midnight_ms(month.FIRST_DAY + timedelta(month.DAYS))


def _check_utilisation(source, plans) -> None:
    lo, hi = _span()
    spaces = source.group_spaces(lo, hi)
    for level, group_of in (("floor", FLOOR_OF), ("zone", ZONE_OF)):
        expected = month.expected_utilisation(plans, group_of)
        hours = source.group_hours(lo, hi, service.LEVEL_TAGS[level])
        rows = service.utilisation(hours, spaces, level, opening=OPENING, min_group=month.K)
        assert {r.key[-1] for r in rows} == set(expected)
        for row in rows:
            name = row.key[-1]
            size = sum(1 for g in group_of.values() if g == name)
            assert row.spaces == size
            if size < month.K:
                assert row.suppressed and row.utilisation is None, row
            else:
                assert not row.suppressed
                assert row.utilisation == pytest.approx(expected[name], abs=MONTH_TOLERANCE)
                print(f"{level} {name}: {row.utilisation:.4f} vs plan {expected[name]:.4f}")
    hours = source.group_hours(lo, hi, service.LEVEL_TAGS["kind"])
    kinds = service.utilisation(hours, spaces, "kind", opening=OPENING, min_group=month.K)
    shown = {r.key[1] for r in kinds if not r.suppressed}
    assert shown == {"desk"}  # 2 meeting rooms and 1 focus room are too few to show


def test_utilisation_and_suppression_sqlite(sqlite_month):
    _check_utilisation(*sqlite_month)


def _check_consolidation(source, plans) -> None:
    lo, hi = _span()
    hours, spaces = source.group_hours(lo, hi, ("site", "floor")), source.group_spaces(lo, hi)
    expected = month.expected_peaks(plans, FLOOR_OF)
    got = service.peaks(hours, "floor", opening=OPENING)
    assert {(key[1], weekday) for key, weekday in got} == set(expected)
    for (key, weekday), peak in got.items():
        assert peak == pytest.approx(expected[(key[1], weekday)], abs=HOUR_TOLERANCE)
    threshold = 0.55  # Friday on hq-1 stays under it in this month, busy days do not
    advice = service.consolidation(
        hours, spaces, "floor", opening=OPENING, min_group=month.K, threshold=threshold
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


def _check_cleaning(source, plans, day: date) -> None:
    lo = midnight_ms(day)
    points = source.raw_points(lo, midnight_ms(day + timedelta(days=1)))
    entries = service.cleaning_list(points, midnight_ms(day + timedelta(days=1)), min_minutes=15)
    by_space = {e.space: e for e in entries}
    assert set(by_space) == set(FLOOR_OF)
    for space, intervals in plans[day].items():
        minutes = sum(p.end - p.start for p in intervals) / 60
        assert by_space[space].occupied_minutes == pytest.approx(minutes, abs=0.02)
        assert by_space[space].clean == (minutes >= 15), space
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
    backfill_influx_hourly(influx_db.url, influx_db.database, lo, hi)
    record_property("seed_s", round(time.perf_counter() - started, 2))
    store.close()
    source = InfluxSource(influx_db.url, influx_db.database)
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
