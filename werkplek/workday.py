"""A believable working day in a Dutch municipal office, as presence intervals per space.

Pure and seeded: the same spaces, date and seed give the same day, so the demo,
the tests and (later) the month of synthetic history for facility reports agree.
The shape follows what hybrid offices report: arrivals spread around 08:45, a
lunch dip around 12:15, departures from 16:00, fewer people on Monday and
Friday, meetings starting on the hour or half hour, and some booked meetings
that nobody attends.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

HOUR = 3600.0
MINUTE = 60.0

#: Share of desks in use per weekday (Monday = 0). Hybrid offices peak mid-week.
DESK_USE_BY_WEEKDAY = (0.55, 0.80, 0.70, 0.80, 0.40, 0.03, 0.0)
#: Chance that a room hosts a meeting in a given half-hour slot, per weekday.
ROOM_USE_BY_WEEKDAY = (0.35, 0.50, 0.45, 0.50, 0.25, 0.0, 0.0)
NO_SHOW_SHARE = 0.15


@dataclass(frozen=True, slots=True)
class SpaceSpec:
    """What the simulator needs to know about one space."""

    space_id: str
    kind: str  # "desk" | "focus_room" | "meeting_room"
    quiet: bool = False


@dataclass(frozen=True, slots=True)
class Interval:
    """A stretch of presence, in seconds since local midnight (end exclusive)."""

    start: float
    end: float

    def contains(self, second_of_day: float) -> bool:
        """Return True when the moment lies inside the interval."""
        return self.start <= second_of_day < self.end


def _clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _desk_day(rng: random.Random) -> list[Interval]:
    arrive = _clip(rng.gauss(8.75 * HOUR, 0.6 * HOUR), 7 * HOUR, 11.5 * HOUR)
    leave = _clip(rng.gauss(16.75 * HOUR, 0.75 * HOUR), arrive + 2 * HOUR, 19 * HOUR)
    if rng.random() < 0.2:  # part-time: a morning or an afternoon
        if rng.random() < 0.5:
            leave = _clip(rng.gauss(12.75 * HOUR, 0.3 * HOUR), arrive + HOUR, 14 * HOUR)
        else:
            arrive = _clip(rng.gauss(13.25 * HOUR, 0.3 * HOUR), 12.5 * HOUR, 15 * HOUR)
            leave = max(leave, arrive + 2 * HOUR)
    breaks: list[tuple[float, float]] = []
    if rng.random() < 0.7 and arrive < 12 * HOUR < leave - HOUR:
        start = _clip(rng.gauss(12.25 * HOUR, 0.4 * HOUR), arrive + HOUR, leave - HOUR)
        breaks.append((start, start + rng.uniform(20, 45) * MINUTE))
    for _ in range(rng.randint(0, 3)):  # coffee, a chat, a walk to the printer
        start = rng.uniform(arrive + 30 * MINUTE, leave - 30 * MINUTE)
        breaks.append((start, start + rng.uniform(3, 12) * MINUTE))
    return _subtract(Interval(arrive, leave), breaks)


def _subtract(whole: Interval, gaps: list[tuple[float, float]]) -> list[Interval]:
    parts: list[Interval] = []
    cursor = whole.start
    for start, end in sorted(gaps):
        if end <= cursor or start >= whole.end:
            continue
        if start > cursor:
            parts.append(Interval(cursor, start))
        cursor = max(cursor, end)
    if cursor < whole.end:
        parts.append(Interval(cursor, whole.end))
    return parts


def _room_day(rng: random.Random, share: float, focus: bool) -> list[Interval]:
    intervals: list[Interval] = []
    slot = 8.5 * HOUR
    while slot < 17 * HOUR:
        if rng.random() < share:
            length = (
                rng.choice((1, 2, 2, 3, 4)) * 30 * MINUTE
                if focus
                else rng.choice((1, 2, 2, 3)) * 30 * MINUTE
            )
            if rng.random() >= NO_SHOW_SHARE:
                late = rng.uniform(0, 6) * MINUTE
                early = rng.uniform(0, 10) * MINUTE
                intervals.append(Interval(slot + late, slot + length - early))
            slot += length
        else:
            slot += 30 * MINUTE
    return intervals


def plan_day(spaces: list[SpaceSpec], day: date, seed: int = 0) -> dict[str, list[Interval]]:
    """Return the presence intervals of every space for one day.

    Args:
        spaces: the spaces to plan.
        day: the local date; the weekday sets how busy the office is.
        seed: makes the day reproducible.
    """
    weekday = day.weekday()
    plan: dict[str, list[Interval]] = {}
    for spec in spaces:
        rng = random.Random(f"{seed}:{day.isoformat()}:{spec.space_id}")
        if spec.kind == "desk":
            use = DESK_USE_BY_WEEKDAY[weekday] * (0.9 if spec.quiet else 1.0)
            plan[spec.space_id] = _desk_day(rng) if rng.random() < use else []
        else:
            share = ROOM_USE_BY_WEEKDAY[weekday]
            plan[spec.space_id] = _room_day(rng, share, focus=spec.kind == "focus_room")
    return plan


def is_present(intervals: list[Interval], second_of_day: float) -> bool:
    """Return True when someone is in the space at that moment."""
    return any(part.contains(second_of_day) for part in intervals)
