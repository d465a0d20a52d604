"""A booking-specific concurrency cap: a few bookings run at once, the rest queue in order.

Why (issue 14, the p99 tail): with 50 clients, up to 40 bookings ran at once in the
thread pool, each about 2 ms of Python CPU between database round trips. Every thread
that came back from PostgreSQL had to win the GIL from 39 others and the event loop,
in no particular order, so some bookings waited many turns while others finished:
p99 was 2-3x p50. With a small cap the others wait here, first come first served,
on the event loop, where waiting costs nothing.

The wait is bounded like the pool's checkout: after ``wait_s`` the request answers
503 ``pool_exhausted`` with ``Retry-After`` (the booking was not started).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio

from backend.database_limits import DatabaseBusy

T = TypeVar("T")

#: Bookings at once in the thread pool (docs/operations.md, Throughput of bookings).
BOOKING_SLOTS = 10


class BookingGate:
    """Run a booking in the thread pool with at most ``slots`` at once (FIFO, bounded wait)."""

    def __init__(self, slots: int = BOOKING_SLOTS, wait_s: float = 5.0) -> None:
        self.slots = slots
        self.wait_s = wait_s
        # Made on first use, on the serving loop (tests build apps outside any loop).
        self._semaphore: anyio.Semaphore | None = None

    async def run(self, func: Callable[[], T]) -> T:
        """Wait for a slot (at most ``wait_s``), then run ``func`` in a worker thread."""
        if self._semaphore is None:
            self._semaphore = anyio.Semaphore(self.slots)
        semaphore = self._semaphore
        acquired = False
        with anyio.move_on_after(self.wait_s):
            await semaphore.acquire()
            acquired = True
        if not acquired:
            raise DatabaseBusy(
                "too many bookings at once; try again in a moment", reason="pool_exhausted"
            )
        try:
            # Outside the wait's deadline: once started, a booking commits or fails on its own.
            return await anyio.to_thread.run_sync(func)
        finally:
            semaphore.release()
