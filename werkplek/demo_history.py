"""Weeks of past occupancy for the demo, so the facility pages show figures at once.

Why: a fresh demo has only the minutes its simulated fleet has run, so every
facility report (utilisation, heat map, trend, cleaning of a past day, energy
advice) would be empty. Before the backend starts, the demo writes a few weeks
of working days through the gateway's own SQLite history store, planned by the
same :func:`werkplek.workday.plan_day` (same seed) the live fleet follows, then
rolls them up hour by hour (the store's own maintenance) and day by day (the
backend's facility rollup). Today is written only up to the real current
moment, so the live fleet carries on from there. Done once per data folder,
in the background: the live desks do not wait for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from backend.config import Settings as BackendSettings
from gateway.history.sqlite import DAY_MS, SqliteHistory
from werkplek.history_gen import PlacedSpace, day_points, generate
from werkplek.workday import SpaceSpec, plan_day

log = logging.getLogger(__name__)

#: The gateway's maintenance re-rolls this many days back from the moment it is given.
_ROLL_STEP_DAYS = 7
#: Heartbeats of the seeded history: fewer points than the firmware's minute, same figures.
HEARTBEAT_S = 1800


@dataclass(frozen=True, slots=True)
class Seeded:
    """What was written: days of history and rolled-up facility days."""

    days: int
    rolled_days: int


def placed_spaces(backend: BackendSettings) -> tuple[list[PlacedSpace], ZoneInfo]:
    """Every space that has a sensor, with its floor and zone, and the first site's zone."""
    from sqlalchemy import select

    from backend.database import make_engine, make_session_factory
    from backend.facility.opening import site_openings
    from backend.spaces.models import Device, Space

    engine = make_engine(backend.database_url)
    try:
        with make_session_factory(engine)() as session:
            openings = site_openings(session)
            rows = session.scalars(
                select(Space).join(Device, Device.space_id == Space.id).order_by(Space.id)
            ).all()
            spaces = [
                PlacedSpace(
                    SpaceSpec(s.id, s.kind, s.quiet),
                    s.site_id,
                    s.floor_id,
                    s.zone or "",
                    openings[s.site_id].tz if s.site_id in openings else ZoneInfo("UTC"),
                )
                for s in rows
            ]
    finally:
        engine.dispose()
    tz = spaces[0].tz if spaces else ZoneInfo("Europe/Amsterdam")
    return spaces, tz


MARKER = "demo-history-seeded.txt"


def needs_seed(data_dir: Path, weeks: int) -> bool:
    """True when this data folder has not had its weeks of history written yet."""
    return weeks > 0 and not (data_dir / MARKER).exists()


def seed_history(
    backend: BackendSettings,
    history_path: Path,
    data_dir: Path,
    *,
    weeks: int,
    seed: int,
    now: datetime | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> Seeded:
    """Write ``weeks`` of past days (and today up to now), then roll them up; once per folder.

    Runs beside the live demo (the store's writes are short transactions), one
    day at a time so ``stop`` ends it quickly; a stopped run leaves no marker and
    is done again at the next start (rewrites are idempotent upserts).
    """
    if not needs_seed(data_dir, weeks):
        return Seeded(0, 0)
    spaces, tz = placed_spaces(backend)
    if not spaces:
        return Seeded(0, 0)
    moment = (now or datetime.now(tz)).astimezone(tz)
    today = moment.date()
    first = today - timedelta(days=weeks * 7)
    now_ms = int(moment.timestamp() * 1000)
    store = SqliteHistory(history_path, raw_retention_days=0, maintain_every_s=1e9)
    try:
        store.ensure_schema()
        for offset in range((today - first).days):
            if stop():
                return Seeded(offset, 0)
            generate(store, spaces, first + timedelta(days=offset), 1, seed=seed,
                     heartbeat_s=HEARTBEAT_S)  # fmt: skip
        plan = plan_day([s.spec for s in spaces], today, seed)
        so_far = [
            p
            for s in spaces
            for p in day_points(s, today, plan[s.spec.space_id], HEARTBEAT_S)
            if p.time_ms <= now_ms
        ]
        if so_far:
            store.write_points(so_far)
        # The store rolls up the eight days before the moment it is given: step
        # through the weeks so every seeded hour lands in ``presence_hourly``.
        start_ms = int(datetime(first.year, first.month, first.day, tzinfo=tz).timestamp() * 1000)
        step = _ROLL_STEP_DAYS * DAY_MS
        for moment_ms in range(start_ms + step, now_ms + step, step):
            store.maintain(min(moment_ms, now_ms))
    finally:
        store.close()
    rolled = rollup_now(backend, history_path, today)
    (data_dir / MARKER).write_text(f"{weeks} weeks before {today.isoformat()}\n")
    log.info("demo history: %d days before today seeded, %d days rolled up", weeks * 7, rolled)
    return Seeded(weeks * 7, rolled)


def rollup_now(backend: BackendSettings, history_path: Path, today: date) -> int:
    """Run the backend's daily facility rollup once, as its hourly job would."""
    from backend.database import make_engine, make_session_factory
    from backend.facility import rollup
    from backend.facility.opening import site_openings
    from backend.facility.sources import SqliteSource

    engine = make_engine(backend.database_url)
    try:
        with make_session_factory(engine)() as session:
            openings = site_openings(session)
    finally:
        engine.dispose()
    source = SqliteSource(history_path)
    try:
        return rollup.catch_up(source, today, openings)
    finally:
        source.close()
