"""Booking jobs of one replica: the check-in scheduler loop, the booking marks, retention.

Marks (each space's current booking end and next start) are what availability
shows as "booked". A committed change (``backend.bookings.events``) re-reads the
marks of the spaces it touched before the caller answers, so the client's next
read shows it; a change of unknown extent shares one full read with concurrent
ones (``MarksRefresher``). The scheduler re-reads everything on every run.

Reads run in threads and may finish out of order; each read takes a sequence
number before it starts, and a space keeps the marks of the newest read that
covered it (a new booking must not flicker free).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from backend.bookings import scheduler
from backend.bookings.evidence import sensor_views
from backend.bookings.marks import MarksRefresher
from backend.clock import utcnow
from backend.config import Settings
from backend.live_feed import LiveFeed

log = logging.getLogger(__name__)

Mark = tuple[int | None, int | None]
T = TypeVar("T")


class BookingJobs:
    """The scheduler loop, the marks the screens show, and hourly retention."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session], feed: LiveFeed) -> None:
        self.settings = settings
        self._factory = factory
        self._feed = feed
        self._seq = itertools.count(1)
        self._full_applied = 0  # newest full read applied
        self._space_applied: dict[str, int] = {}  # newer partial reads, per space
        self._task: asyncio.Task[None] | None = None
        self._last_retention = 0.0
        self.last_tick: scheduler.TickResult | None = None
        self.marks = MarksRefresher(self._refresh_all)

    async def start(self) -> None:
        """Start the scheduler loop (on the loop)."""
        self._task = asyncio.create_task(self._loop(), name="werkplek-bookings")

    async def stop(self) -> None:
        """Stop the scheduler loop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def changed(self, spaces: frozenset[str] | None) -> None:
        """Committed booking changes: refresh their marks before the caller answers.

        Called in the committing thread; a commit on the loop itself (none today)
        hands the read to a worker thread rather than block the loop.
        """
        loop = self._feed.loop
        if loop is not None and _running_loop() is loop:
            loop.run_in_executor(None, self._refresh, spaces)
            return
        self._refresh(spaces)

    def _refresh(self, spaces: frozenset[str] | None) -> None:
        if spaces is None:
            self.marks.changed()
            return
        self._feed.call_soon(self._apply, *self._read(spaces))

    async def tick(self) -> scheduler.TickResult:
        """One scheduler run: check-ins and releases, then fresh marks; retention hourly."""
        hub = self._feed.hub
        views = sensor_views(
            self._feed.live,
            hub.clock_ms(),
            hub.stale_after_ms,
            lambda site: hub.site_links.down(site) is not None,
        )
        now = utcnow()
        result = await _to_thread_to_the_end(scheduler.run_once, self._factory, now, views)
        self.last_tick = result
        self._apply(*await _to_thread_to_the_end(self._read, None))
        if time.monotonic() - self._last_retention > 3600:
            self._last_retention = time.monotonic()
            await _to_thread_to_the_end(self._retention)
        return result

    def _refresh_all(self) -> None:
        self._feed.call_soon(self._apply, *self._read(None))

    def _read(
        self, spaces: frozenset[str] | None
    ) -> tuple[int, frozenset[str] | None, dict[str, Mark]]:
        seq = next(self._seq)  # atomic: taken before the read starts
        with self._factory() as session:
            # One statement, no transaction: no BEGIN, and no ROLLBACK round trip when
            # the connection goes back to the pool (it ran after every booking).
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            marks = scheduler.load_marks(session, utcnow(), spaces=spaces)
        return (
            seq,
            spaces,
            {sid: (_ms(m.booked_until), _ms(m.next_start)) for sid, m in marks.items()},
        )

    def _apply(self, seq: int, spaces: frozenset[str] | None, marks: dict[str, Mark]) -> None:
        # On the loop. A space keeps the marks of the newest read that covered it.
        hub = self._feed.hub
        if spaces is None:
            if seq < self._full_applied:
                return
            self._full_applied = seq
            newer = {sid: s for sid, s in self._space_applied.items() if s > seq}
            self._space_applied = newer
            merged = {sid: m for sid, m in marks.items() if sid not in newer}
            merged.update((sid, hub.marks[sid]) for sid in newer if sid in hub.marks)
            hub.set_marks(merged)
            return
        changes: dict[str, Mark | None] = {}
        for sid in spaces:
            if seq < max(self._full_applied, self._space_applied.get(sid, 0)):
                continue
            self._space_applied[sid] = seq
            changes[sid] = marks.get(sid)
        if changes:
            hub.update_marks(changes)

    def _retention(self) -> None:
        with self._factory() as session:
            done = scheduler.run_retention(session, utcnow(), self.settings.retention_days)
        log.info("retention: %s", done)

    async def _loop(self) -> None:
        # A replica that restarts simply resumes: all state is in the database.
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("booking scheduler failed; it keeps running")
            await asyncio.sleep(self.settings.booking_check_s)


async def _to_thread_to_the_end(func: Callable[..., T], *args: Any) -> T:
    """Run ``func`` in a thread; when the loop is stopped meanwhile, wait for it to end.

    A cancelled ``asyncio.to_thread`` leaves its thread running: a stop during a
    scheduler run or retention would dispose of the engine under a transaction in
    progress.
    """
    job = asyncio.ensure_future(asyncio.to_thread(func, *args))
    try:
        return await asyncio.shield(job)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await job
        raise


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)
