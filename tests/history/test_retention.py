"""Retention and hourly rollup: SQLite prune + rollup table; InfluxDB 1.x policies + CQ."""

import sqlite3
import time

import pytest

from history import InfluxHistory, SqliteHistory
from history.base import PresencePoint

HOUR = 3_600_000
DAY = 24 * HOUR


def pt(t, occupied, device="d-1", space="hq.1.d-001", seq=0):
    return PresencePoint(
        site="hq",
        device=device,
        time_ms=t,
        occupied=occupied,
        seq=seq,
        boot=1,
        source="pir",
        clock_corrected=False,
        space=space,
        kind="desk",
        floor="hq-1",
        zone="a",
    )


def test_sqlite_rolls_up_complete_hours_then_prunes_raw_rows(tmp_path):
    now = (int(time.time() * 1000) // HOUR) * HOUR + 10 * 60_000
    store = SqliteHistory(tmp_path / "h.sqlite3", raw_retention_days=2, hourly_retention_days=30)
    store.ensure_schema()
    hour = now - now % HOUR - 2 * HOUR  # a complete hour two hours ago
    store.write_points(
        [pt(hour + i * 60_000, i < 3, seq=i) for i in range(4)]  # 3 of 4 occupied
        + [pt(now - 3 * DAY, True, seq=10)]  # older than the raw retention
        + [pt(now - 60_000, True, seq=11)]  # in the current, incomplete hour
    )
    store.maintain(now)
    assert store.hourly("hq.1.d-001", 0, now + HOUR) == [(hour, 0.75, 4)]
    left = store.query_presence(device="d-1", start_ms=0, end_ms=now + HOUR)
    assert sorted(p.seq for p in left) == [0, 1, 2, 3, 11]  # the 3-day-old row is gone
    # A late point for the rolled-up hour is included at the next maintenance.
    store.write_points([pt(hour + 30 * 60_000, False, seq=20)])
    store.maintain(now)
    assert store.hourly("hq.1.d-001", 0, now + HOUR) == [(hour, 0.6, 5)]
    # Hourly rows beyond their own retention go too.
    store.maintain(now + 31 * DAY)
    assert store.hourly("hq.1.d-001", 0, now + 40 * DAY) == []
    store.close()


def test_sqlite_schema_has_the_facility_hourly_index_and_a_day_query_uses_it(tmp_path):
    path = tmp_path / "h.sqlite3"
    store = SqliteHistory(path)
    store.ensure_schema()
    store.close()
    conn = sqlite3.connect(path)
    try:
        columns = [row[2] for row in conn.execute("PRAGMA index_info(facility_hourly_time)")]
        assert columns == ["hour_ms"]  # made by the gateway itself
        # The backend's own statement (history/facility/influx.py) finds it and is harmless.
        conn.execute("CREATE INDEX IF NOT EXISTS facility_hourly_time ON presence_hourly (hour_ms)")
        plan = " ".join(
            str(row[-1])
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT space, occupancy FROM presence_hourly"
                " WHERE hour_ms >= ? AND hour_ms < ?",
                (0, HOUR * 24),
            )
        )
        assert "facility_hourly_time" in plan
    finally:
        conn.close()
    # Opening the file again, index and all, works as before.
    again = SqliteHistory(path)
    again.ensure_schema()
    again.close()


def test_sqlite_file_from_before_the_zone_tag_is_migrated(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE presence (site TEXT NOT NULL, device TEXT NOT NULL, time_ms INTEGER NOT"
        " NULL, occupied INTEGER NOT NULL, seq INTEGER NOT NULL, boot INTEGER, source TEXT NOT"
        " NULL, clock_corrected INTEGER NOT NULL, space TEXT, kind TEXT, floor TEXT,"
        " PRIMARY KEY (site, device, time_ms))"
    )
    conn.close()
    store = SqliteHistory(path, raw_retention_days=0)
    store.ensure_schema()
    now = int(time.time() * 1000)
    store.write_points([pt(now, True)])
    assert store.query_presence(device="d-1", start_ms=0, end_ms=now + 1)[0].zone == "a"
    store.close()


def policies(influx_db):
    body = influx_db.query(f'SHOW RETENTION POLICIES ON "{influx_db.database}"')
    series = body["results"][0]["series"][0]
    return {row[0]: dict(zip(series["columns"], row, strict=True)) for row in series["values"]}


@pytest.mark.integration
def test_influx_gets_retention_policies_and_a_working_hourly_rollup(influx_db):
    store = InfluxHistory(influx_db.url, influx_db.database, hourly_retention_days=0)
    store.ensure_schema()
    got = policies(influx_db)
    assert got["raw"]["duration"] == "720h0m0s" and got["raw"]["default"] is True
    assert got["hourly"]["duration"] == "0s"  # forever
    # Start-up again with other settings alters the policies instead of failing.
    again = InfluxHistory(
        influx_db.url, influx_db.database, raw_retention_days=7, hourly_retention_days=3650
    )
    again.ensure_schema()
    got = policies(influx_db)
    assert got["raw"]["duration"] == "168h0m0s" and got["hourly"]["duration"] == "87600h0m0s"
    cqs = influx_db.query("SHOW CONTINUOUS QUERIES")["results"][0]["series"]
    (ours,) = [s for s in cqs if s["name"] == influx_db.database]
    queries = dict(ours["values"])
    assert set(queries) == {"presence_hourly", "telemetry_hourly"}
    text = queries["presence_hourly"]
    # Run the continuous query's own statement over the last hours: the rollup works.
    now = int(time.time() * 1000)
    hour = now - now % HOUR - HOUR
    again.write_points([pt(hour + i * 60_000, i % 4 == 0, seq=i) for i in range(8)])
    select = text[text.index("BEGIN ") + 6 : text.rindex(" END")]
    select = select.replace(
        " GROUP BY", f" WHERE time >= {hour}ms AND time < {hour + HOUR}ms GROUP BY"
    )
    result = influx_db.query(select)["results"][0]
    assert "error" not in result, result
    rows = influx_db.query('SELECT * FROM "hourly"."presence_hourly"')["results"][0]["series"][0]
    row = dict(zip(rows["columns"], rows["values"][0], strict=True))
    assert (row["occupancy"], row["samples"], row["space"], row["zone"]) == (
        0.25,
        8,
        "hq.1.d-001",
        "a",
    )
    store.close()
    again.close()


@pytest.mark.integration
def test_influx_drops_points_older_than_raw_retention_and_keeps_the_rest(influx_db):
    store = InfluxHistory(influx_db.url, influx_db.database, raw_retention_days=1)
    store.ensure_schema()
    now = int(time.time() * 1000)
    store.write_points([pt(now - 3 * DAY, True, seq=1), pt(now - HOUR, True, seq=2)])
    got = store.query_presence(device="d-1", start_ms=now - 10 * DAY, end_ms=now)
    assert [p.seq for p in got] == [2]
    store.close()
