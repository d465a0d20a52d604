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
from history.sqlite import DAY_MS, SqliteHistory
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
    seed_bookings(backend, spaces, first, today, seed)
    rolled = rollup_now(backend, history_path, today)
    (data_dir / MARKER).write_text(f"{weeks} weeks before {today.isoformat()}\n")
    log.info("demo history: %d days before today seeded, %d days rolled up", weeks * 7, rolled)
    return Seeded(weeks * 7, rolled)


#: Share of used desks that were booked (the rest walked in), and of unused desks
#: booked by someone who never came (released as a no-show).
BOOKED_SHARE = 0.6
NO_SHOW_SHARE = 0.08
SLOT_S = 1800


def _at(day: date, second: float, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(seconds=second)


def seed_bookings(
    backend: BackendSettings, spaces: list[PlacedSpace], first: date, today: date, seed: int
) -> int:
    """Past bookings that fit the same plan: booked-and-used, walk-ins and no-shows.

    So "booked and used", the quiet-desk demand and the no-show figures have
    something to show. Owned by no person (like a door panel's bookings), on
    past days only; returns the number written.
    """
    import random

    from sqlalchemy import insert

    from backend.bookings.models import Booking
    from backend.database import make_engine, make_session_factory

    rows: list[dict[str, object]] = []
    for offset in range((today - first).days):
        day = first + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        plan = plan_day([s.spec for s in spaces], day, seed)
        for space in spaces:
            parts = plan[space.spec.space_id]
            rng = random.Random(f"{seed}:{day.isoformat()}:{space.spec.space_id}:booking")
            windows: list[tuple[float, float, bool]] = []
            if space.spec.kind != "desk":
                windows = [(p.start // SLOT_S * SLOT_S, -(-p.end // SLOT_S) * SLOT_S, True)
                           for p in parts]  # fmt: skip
            elif parts and rng.random() < BOOKED_SHARE:
                windows = [(parts[0].start // SLOT_S * SLOT_S, -(-parts[-1].end // SLOT_S) * SLOT_S,
                            True)]  # fmt: skip
            elif not parts and rng.random() < NO_SHOW_SHARE:
                windows = [(9 * 3600.0, 17 * 3600.0, False)]
            for lo, hi, came in windows:
                start, end = _at(day, lo, space.tz), _at(day, hi, space.tz)
                rows.append({
                    "space_id": space.spec.space_id, "site_id": space.site,
                    "space_kind": space.spec.kind, "start_at": start, "end_at": end,
                    "local_day": day, "status": "checked_in" if came else "released",
                    "checked_in_at": start + timedelta(minutes=5) if came else None,
                    "check_in_method": "sensor" if came else None,
                    "ended_at": None if came else start + timedelta(minutes=15),
                    "end_reason": None if came else "no_show",
                })  # fmt: skip
    engine = make_engine(backend.database_url)
    try:
        with make_session_factory(engine)() as session:
            if rows:  # one bulk statement, not one ORM object per booking
                session.execute(insert(Booking), rows)
            session.commit()
    finally:
        engine.dispose()
    return len(rows)


def rollup_now(backend: BackendSettings, history_path: Path, today: date) -> int:
    """Run the backend's daily facility rollup once, as its hourly job would."""
    from backend.database import make_engine, make_session_factory
    from backend.facility import rollup
    from backend.facility.opening import site_openings
    from history.facility import SqliteSource

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
