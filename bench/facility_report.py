"""Utilisation report over a year of hourly history for 5,000 spaces, against the bare query.

What runs, in this order, each timed on its own:

1. Seeding the hourly history: ``presence_hourly`` in the ``hourly`` policy of a
   private InfluxDB 1.6 gets one point per space and hour from 07:00 to 20:00
   local (the hours the simulated nodes report), every day of the year. The
   values follow a weekday/hour profile with a per-space scale and a per-day
   swing (deterministic). Written in chunks of 7 days.
2. The real rollup job (:func:`backend.facility.rollup.rollup_day`) after each
   chunk, per day: InfluxDB aggregates the day per group and hour, the job writes
   one ``facility_daily`` point per group. The time per day is reported.
3. Baseline: the bare InfluxQL that fetches what the report needs (the rollup's
   opening-time sums added up per group by InfluxDB, ``totals_query``, from the
   ``facility`` retention policy the rollup creates), sent with httpx, the answer
   read but not parsed.
4. Report: :func:`backend.facility.reports.utilisation` per floor: the same
   query, parsed, summed per floor, small groups suppressed. Opening hours and
   holidays (7 Dutch public holidays per site) were applied by the rollup.

Targets: report within 2x of the baseline and under 2 s.

The same for the SQLite history of the demo (``BENCH_SQLITE=0`` skips it):
``presence_hourly`` rows in a SQLite file, the same rollup code per day (SQL
GROUP BY), the totals summed in SQL.

``python -m bench facility_report``; env ``BENCH_SPACES`` (5000), ``BENCH_DAYS`` (365),
``BENCH_REPEAT`` (9 timed runs of each, in turns, after one warm-up), ``BENCH_SQLITE`` (1).
"""

from __future__ import annotations

import gzip
import os
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from backend.facility import reports, rollup  # noqa: E402
from backend.facility.opening import DEFAULT, Opening  # noqa: E402
from history.facility import (  # noqa: E402
    InfluxSource,
    SqliteSource,
    totals_query,
)
from history.influx import InfluxHistory  # noqa: E402
from history.sqlite import SqliteHistory  # noqa: E402
from tests.services import InfluxDB, make_tempdir  # noqa: E402

FIRST_DAY = date(2025, 1, 6)
#: Hours the simulated nodes report (07:00 to 20:00 local), as the generator writes them.
REPORT_HOURS = range(7, 21)
#: Occupancy by local hour on a busy weekday; weekends are empty.
PROFILE = [0.0] * 8 + [0.3, 0.6, 0.7, 0.7, 0.5, 0.6, 0.7, 0.6, 0.4, 0.2] + [0.0] * 6
WEEKDAY = (0.7, 1.0, 0.9, 1.0, 0.5, 0.0, 0.0)
CHUNK_DAYS = 7
SITES = 5
#: The zone of every benchmark site (their openings are :data:`DEFAULT`'s, in the default zone).
TZ = DEFAULT.tz


def space_tags(i: int) -> tuple[str, str, str, str, str]:
    """(site, floor, zone, kind, space) of space ``i``: 5 sites x 10 floors x 4 zones x 2 kinds."""
    site = f"s{i % SITES}"
    return (
        site,
        f"{site}-f{i // SITES % 10}",
        f"z{i // 50 % 4}",
        "desk" if i % 10 else "meeting_room",
        f"sp{i:05d}",
    )


def day_values(day: date, spaces: int) -> Iterator[tuple[int, int, float]]:
    """``(space index, hour start ms, occupancy)`` of every space and reported hour of a day."""
    swing = 0.8 + 0.4 * ((day.toordinal() * 7919) % 101) / 100
    hours = []
    for hour in REPORT_HOURS:
        moment = datetime(day.year, day.month, day.day, hour, tzinfo=TZ)
        base = PROFILE[hour] * WEEKDAY[day.weekday()] * swing
        hours.append((int(moment.timestamp() * 1000), base))
    for i in range(spaces):
        scale = 0.6 + (i % 7) / 10
        for t, base in hours:
            yield i, t, min(1.0, base * scale)


def holidays() -> frozenset[date]:
    """Dutch public holidays in the benchmark year (so the report subtracts real days)."""
    return frozenset(
        date(2025, m, d) for m, d in ((1, 1), (4, 21), (4, 28), (5, 5), (5, 29), (6, 9), (12, 25))
    )


def openings() -> dict[str, Opening]:
    """Each site's opening hours (the defaults) and holidays, as the database would give."""
    return {f"s{i}": Opening(DEFAULT.table, holidays()) for i in range(SITES)}


def timed(
    bare: Callable[[], object], report: Callable[[], object], repeat: int
) -> tuple[float, float, float, float]:
    """Median and best wall time of the bare query and the report, ``repeat`` runs each
    after one warm-up, taken in turns so a change in machine load hits both alike."""
    bare()
    report()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for run, into in ((bare, times[0]), (report, times[1])):
            started = time.perf_counter()
            run()
            into.append(time.perf_counter() - started)
    return (statistics.median(times[0]), min(times[0]), statistics.median(times[1]), min(times[1]))


def seed_influx(url: str, database: str, spaces: int, days: int) -> tuple[int, float, list[float]]:
    """Write the hourly history chunk by chunk and roll each day up with the real job.

    Returns (points written, seconds spent writing, seconds per rolled-up day).
    """
    keys = [
        "presence_hourly,floor={1},kind={3},site={0},space={4},zone={2}".format(*space_tags(i))
        for i in range(spaces)
    ]
    client = httpx.Client(base_url=url, timeout=600)
    source = InfluxSource(url, database)
    sites = openings()
    written, write_s, per_day = 0, 0.0, []
    for chunk in range(0, days, CHUNK_DAYS):
        chunk_days = [FIRST_DAY + timedelta(days=d) for d in range(chunk, min(days, chunk + 7))]
        started = time.perf_counter()
        for day in chunk_days:
            lines = [
                f"{keys[i]} occupancy={v:.3f},samples=12i {t}"
                for i, t, v in day_values(day, spaces)
            ]
            response = client.post(
                "/write",
                params={"db": database, "rp": "hourly", "precision": "ms"},
                content=gzip.compress("\n".join(lines).encode(), 1),
                headers={"Content-Encoding": "gzip"},
            )
            response.raise_for_status()
            written += len(lines)
        write_s += time.perf_counter() - started
        for day in chunk_days:
            started = time.perf_counter()
            rollup.rollup_day(source, day, sites)
            per_day.append(time.perf_counter() - started)
    client.close()
    source.close()
    return written, write_s, per_day


def bench_influx(spaces: int, days: int, repeat: int) -> None:
    """Seed InfluxDB, roll up, time the bare query and the report."""
    workdir = make_tempdir("bench-facility")
    influx = InfluxDB(workdir=workdir / "influx")
    influx.start()
    try:
        database = influx.create_database()
        store = InfluxHistory(influx.url, database, raw_retention_days=0)
        store.ensure_schema()
        store.close()
        points, write_s, per_day = seed_influx(influx.url, database, spaces, days)
        lo = rollup.midnight_ms(FIRST_DAY, TZ)
        hi = rollup.midnight_ms(FIRST_DAY + timedelta(days=days), TZ)
        bare_client = httpx.Client(base_url=influx.url, timeout=600)
        q = totals_query(lo, hi)

        def bare() -> None:
            bare_client.post("/query", data={"q": q, "db": database, "epoch": "ms"}).read()

        source = InfluxSource(influx.url, database)
        out: list[object] = []

        def report() -> None:
            out[:] = reports.utilisation(source, lo, hi, "floor", 5)

        bare_med, bare_min, rep_med, rep_min = timed(bare, report, repeat)
        groups = len({r.group for r in source.day_rows(lo, lo + 86_400_000)})
        source.close()
        bare_client.close()
    finally:
        influx.stop()
    print(f"facility_report (InfluxDB 1.6): {spaces} spaces x {days} days")
    print(f"  hourly history: {points:,} points written in {write_s:.1f} s")
    print(
        f"  rollup job: {len(per_day)} days, {sum(per_day):.1f} s in all; per day median "
        f"{statistics.median(per_day):.3f} s, max {max(per_day):.3f} s; {groups} groups per day"
    )
    verdict("InfluxQL", bare_med, bare_min, rep_med, rep_min, len(out))


def seed_sqlite(path: Path, spaces: int, days: int) -> tuple[int, float, list[float]]:
    """Fill the gateway's ``presence_hourly`` table, then roll each day up with the real job."""
    store = SqliteHistory(path, raw_retention_days=0, maintain_every_s=1e12)
    store.ensure_schema()
    store.close()
    tags = [space_tags(i) for i in range(spaces)]
    source = SqliteSource(path)
    sites = openings()
    written, write_s, per_day = 0, 0.0, []
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")  # as the gateway opens it
    conn.execute("PRAGMA synchronous=OFF")  # seeding only; nothing timed depends on it
    for chunk in range(0, days, CHUNK_DAYS):
        chunk_days = [FIRST_DAY + timedelta(days=d) for d in range(chunk, min(days, chunk + 7))]
        started = time.perf_counter()
        with conn:
            for day in chunk_days:
                rows = [
                    (tags[i][0], tags[i][4], t, tags[i][3], tags[i][1], tags[i][2], v, 12)
                    for i, t, v in day_values(day, spaces)
                ]
                conn.executemany(
                    "INSERT INTO presence_hourly (site, space, hour_ms, kind, floor, zone,"
                    " occupancy, samples) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                written += len(rows)
        write_s += time.perf_counter() - started
        for day in chunk_days:
            started = time.perf_counter()
            rollup.rollup_day(source, day, sites)
            per_day.append(time.perf_counter() - started)
    conn.close()
    return written, write_s, per_day


def bench_sqlite(spaces: int, days: int, repeat: int) -> None:
    """Seed the SQLite history, roll up, time the bare SQL and the report."""
    path = make_tempdir("bench-facility-sqlite") / "history.sqlite3"
    points, write_s, per_day = seed_sqlite(path, spaces, days)
    lo = rollup.midnight_ms(FIRST_DAY, TZ)
    hi = rollup.midnight_ms(FIRST_DAY + timedelta(days=days), TZ)
    source = SqliteSource(path)
    sql = (
        "SELECT site, floor, zone, kind, SUM(open_occ), SUM(open_n), MAX(spaces)"
        " FROM facility_daily WHERE day_ms >= ? AND day_ms < ? GROUP BY site, floor, zone, kind"
    )

    def bare() -> None:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.execute(sql, (lo, hi)).fetchall()
        conn.close()

    out: list[object] = []

    def report() -> None:
        out[:] = reports.utilisation(source, lo, hi, "floor", 5)

    bare_med, bare_min, rep_med, rep_min = timed(bare, report, repeat)
    print(f"facility_report (SQLite history): {spaces} spaces x {days} days")
    print(f"  hourly history: {points:,} rows written in {write_s:.1f} s")
    print(
        f"  rollup job: {len(per_day)} days, {sum(per_day):.1f} s in all; per day median "
        f"{statistics.median(per_day):.3f} s, max {max(per_day):.3f} s"
    )
    verdict("SQL", bare_med, bare_min, rep_med, rep_min, len(out))


def verdict(
    what: str, bare_med: float, bare_min: float, rep_med: float, rep_min: float, rows: int
) -> None:
    """Print both timings, the ratio and whether the targets are met."""
    ratio = rep_med / bare_med
    print(f"  bare {what} (baseline): median {bare_med:.3f} s, best {bare_min:.3f} s")
    print(f"  utilisation report:   median {rep_med:.3f} s, best {rep_min:.3f} s")
    print(f"  ratio {ratio:.2f}x (target <= 2x); {rows} floors reported")
    print(f"  load average {os.getloadavg()[0]:.1f}")
    ok = ratio <= 2 and rep_med < 2
    print(f"  verdict: {'PASS' if ok else 'FAIL'} (target: within 2x and under 2 s)")


def main() -> None:
    """Run the InfluxDB benchmark, then the SQLite one."""
    spaces = int(os.environ.get("BENCH_SPACES", "5000"))
    days = int(os.environ.get("BENCH_DAYS", "365"))
    repeat = int(os.environ.get("BENCH_REPEAT", "9"))
    started = time.perf_counter()
    bench_influx(spaces, days, repeat)
    if os.environ.get("BENCH_SQLITE", "1") != "0":
        bench_sqlite(spaces, days, repeat)
    print(f"  facility_report ran {time.perf_counter() - started:.0f} s in all")
