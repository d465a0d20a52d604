"""Fixtures of the end-to-end tests.

``office_clock`` runs a test on a fixed time of the office day instead of the hour the
suite happens to run at: tests that book a room "now" must give the same answers at 10:00
and at 23:50 (sites are open 00:00-23:59 in tests, so late at night a 15-minute booking
from now no longer fits). It installs the backend's one clock (``backend.clock.use``) for
the in-process backends these tests serve; the pages follow it through the
``Werkplek-Time`` header, and the test reads the same "now" from :meth:`OfficeClock.now`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from backend import clock
from werkplek.fleet import SimClock

AMS = ZoneInfo("Europe/Amsterdam")
#: The time of day the tests that book "now" run at, unless they pin another.
MORNING = dt.time(10, 0)


class OfficeClock:
    """The backend's clock pinned to a time of today (Amsterdam), running at the real rate."""

    def __init__(self) -> None:
        self.day = dt.datetime.now(AMS).date()

    def at(self, moment: dt.time) -> dt.datetime:
        """Set the clock to ``moment`` of today (local); return that moment, aware.

        Sensor times (wall clock) map onto the same frame, so "vacant since" stays
        seconds ago and not hours in the past or future.
        """
        start = dt.datetime.combine(self.day, moment, AMS)
        sim = SimClock(start)
        clock.use(sim.now, sim.from_wall)
        return start

    def now(self) -> dt.datetime:
        """The pinned clock's local time, naive and to the minute (as a client sends times)."""
        local = clock.utcnow().astimezone(AMS)
        return local.replace(tzinfo=None, second=0, microsecond=0)


@pytest.fixture
def office_clock() -> Iterator[OfficeClock]:
    """The backend's clock at 10:00 Amsterdam today (a test may pin another moment).

    Install it before the backend issues session tokens, so they are dated on this clock.
    The real clock is put back afterwards.
    """
    pinned = OfficeClock()
    pinned.at(MORNING)
    try:
        yield pinned
    finally:
        clock.use(None)
