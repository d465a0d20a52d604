"""Utilisation report over a year of hourly history for 5,000 spaces, against bare InfluxQL.

Seeds ``presence_hourly`` in the ``hourly`` policy of a private InfluxDB with one
point per space and hour (deterministic weekday/hour profile), then times:

- baseline: the bare InfluxQL aggregation, sent with httpx, answer read but not parsed;
- report: ``InfluxSource`` + ``service.utilisation`` per floor (the same aggregation,
  parsed, filtered to opening hours, plus the count of spaces per group).

Targets: report within 2x of the baseline and under 2 s.
``python -m bench facility_report`` (env ``BENCH_SPACES`` default 5000, ``BENCH_DAYS`` 365,
``BENCH_REPEAT`` 3 timed runs after one warm-up).
"""

from __future__ import annotations

import gzip
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from backend.facility import service  # noqa: E402
from backend.facility.sources import InfluxSource, hourly_query  # noqa: E402
from gateway.history.influx import InfluxHistory  # noqa: E402
from tests.services import InfluxDB, make_tempdir  # noqa: E402

HOUR_S = 3600
#: Occupancy by local hour on a busy weekday; weekends are empty.
PROFILE = [0.0] * 8 + [0.3, 0.6, 0.7, 0.7, 0.5, 0.6, 0.7, 0.6, 0.4, 0.2] + [0.0] * 6
WEEKDAY = (0.7, 1.0, 0.9, 1.0, 0.5, 0.0, 0.0)


def seed(url: str, database: str, spaces: int, start_s: int, days: int) -> int:
    """Write one hourly point per space and hour; returns the number of points."""
    values = []
    for hour in range(days * 24):
        t = start_s + hour * HOUR_S
        moment = datetime.fromtimestamp(t, service.TZ)
        values.append((t, PROFILE[moment.hour] * WEEKDAY[moment.weekday()]))
    client = httpx.Client(base_url=url, timeout=600)
    lines: list[str] = []
    written = 0
    for i in range(spaces):
        site, floor, zone = f"s{i % 5}", f"f{i // 5 % 10}", f"z{i // 50 % 4}"
        kind = "desk" if i % 10 else "meeting_room"
        key = (
            f"presence_hourly,floor={site}-{floor},kind={kind},site={site},"
            f"space=sp{i:05d},zone={zone}"
        )
        scale = 0.6 + (i % 7) / 10
        lines.extend(
            f"{key} occupancy={min(1.0, v * scale):.3f},samples=12i {t}" for t, v in values
        )
        if len(lines) >= 200_000 or i == spaces - 1:
            body = gzip.compress("\n".join(lines).encode(), 1)
            response = client.post(
                "/write",
                params={"db": database, "rp": "hourly", "precision": "s"},
                content=body,
                headers={"Content-Encoding": "gzip"},
            )
            response.raise_for_status()
            written += len(lines)
            lines = []
    client.close()
    return written


def _best(run: object, repeat: int) -> tuple[float, float]:
    """Median and best wall time of ``repeat`` runs after one warm-up."""
    assert callable(run)
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times)


def main() -> None:
    """Seed, time both, print the figures and the verdict."""
    spaces = int(os.environ.get("BENCH_SPACES", "5000"))
    days = int(os.environ.get("BENCH_DAYS", "365"))
    workdir = make_tempdir("bench-facility")
    influx = InfluxDB(workdir=workdir / "influx")
    influx.start()
    try:
        database = influx.create_database()
        store = InfluxHistory(influx.url, database, raw_retention_days=0)
        store.ensure_schema()
        store.close()
        start_s = int(datetime(2025, 1, 6, tzinfo=UTC).timestamp())
        started = time.perf_counter()
        points = seed(influx.url, database, spaces, start_s, days)
        seeded_s = time.perf_counter() - started
        lo, hi = start_s * 1000, (start_s + days * 24 * HOUR_S) * 1000
        by = service.LEVEL_TAGS["floor"]
        bare_client = httpx.Client(base_url=influx.url, timeout=600)
        q = hourly_query(lo, hi, by)

        def bare() -> None:
            bare_client.post("/query", data={"q": q, "db": database, "epoch": "ms"}).read()

        source = InfluxSource(influx.url, database)
        rows: list[service.UtilisationRow] = []

        def report() -> None:
            hours = source.group_hours(lo, hi, by)
            counts = source.group_spaces(lo, hi)
            rows[:] = service.utilisation(
                hours, counts, "floor", opening=service.Opening(), min_group=5
            )

        repeat = int(os.environ.get("BENCH_REPEAT", "3"))
        bare_med, bare_min = _best(bare, repeat)
        rep_med, rep_min = _best(report, repeat)
        source.close()
        bare_client.close()
    finally:
        influx.stop()
    ratio = rep_med / bare_med
    print(f"facility_report: {spaces} spaces x {days} days hourly = {points:,} points")
    print(f"  seeding took {seeded_s:.1f} s; load average {os.getloadavg()[0]:.1f}")
    print(f"  bare InfluxQL (baseline): median {bare_med:.3f} s, best {bare_min:.3f} s")
    print(f"  utilisation report:       median {rep_med:.3f} s, best {rep_min:.3f} s")
    print(f"  ratio {ratio:.2f}x (target <= 2x); {len(rows)} floors reported")
    ok = ratio <= 2 and rep_med < 2
    print(f"  verdict: {'PASS' if ok else 'FAIL'} (target: within 2x and under 2 s)")
