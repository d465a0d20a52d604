"""The backend's one clock: every "now" in UTC comes from here.

Production never changes it: :func:`utcnow` is the real clock. The demo
(``werkplek demo``) runs a simulated office day and installs that day's clock
with :func:`use`, so the booking rules, the scheduler, the door panel,
availability and the pages agree with the simulated fleet. The hook is
process-wide; tests that install a clock restore the real one with
``use(None)``.

Sensor times stay on the wall clock (the gateway stamps and ages them in real
seconds); :func:`from_wall` turns such a moment into this clock's time, so
"vacant since" compares with "now" in one frame.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_now: Callable[[], datetime] | None = None
_from_wall: Callable[[datetime], datetime] | None = None
_rate = 1.0


def use(
    now: Callable[[], datetime] | None,
    from_wall: Callable[[datetime], datetime] | None = None,
    rate: float = 1.0,
) -> None:
    """Install a clock for the whole process (the demo's), or the real one with ``None``.

    Args:
        now: returns the clock's current time as an aware datetime (any zone).
        from_wall: maps a real (wall-clock) moment to the clock's time; without it
            wall moments are taken as they are.
        rate: how many of the clock's seconds pass per real second (the demo's
            speed); the pages learn it with the time (``backend.middleware.clock``).
    """
    global _now, _from_wall, _rate
    if not rate > 0:
        raise ValueError("the clock's rate must be positive")
    _now, _from_wall = now, (from_wall if now is not None else None)
    _rate = rate if now is not None else 1.0


def rate() -> float:
    """How many of this clock's seconds pass per real second (1 for the real clock)."""
    return _rate


def simulated() -> bool:
    """True while a clock other than the real one is installed."""
    return _now is not None


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    if _now is None:
        return datetime.now(UTC)
    moment = _now()
    if moment.tzinfo is None:
        raise ValueError("the installed clock must return aware datetimes")
    return moment.astimezone(UTC)


def wall_utcnow() -> datetime:
    """The real time whatever clock is installed, for what the wall clock stamps.

    The sensor history (written by the gateway in real time) and the facility
    reports read from it (cleaning list, energy, consolidation) stay in that
    frame, so a simulated day in the demo does not empty them. In production
    it is :func:`utcnow`.
    """
    return datetime.now(UTC)


def from_wall(moment: datetime) -> datetime:
    """Turn a real (wall-clock) moment, such as a sensor's "since", into this clock's time."""
    if _from_wall is None:
        return moment.astimezone(UTC)
    return _from_wall(moment).astimezone(UTC)
