"""A synthetic month of history and the figures expected from its plan, computed here.

The expectations read only the plan (presence intervals), never the stored
points or the report code, so they check the whole chain independently.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from werkplek.history_gen import PlacedSpace
from werkplek.workday import Interval, SpaceSpec

FIRST_DAY = date(2026, 9, 1)  # a month without a clock change
DAYS = 30
OPENS, CLOSES = 8, 18
K = 5


def _place(prefix: str, n: int, kind: str, floor: str, zone: str) -> list[PlacedSpace]:
    return [
        PlacedSpace(SpaceSpec(f"{prefix}{i}", kind, quiet=i % 3 == 0), "hq", floor, zone)
        for i in range(n)
    ]


#: Floors hq-1 (14 spaces) and hq-2 (8) are reported; hq-3 (3) and zones "south"
#: (4) and "meet" (2) are too small and must be suppressed.
SPACES = (
    _place("n", 8, "desk", "hq-1", "north")
    + _place("s", 4, "desk", "hq-1", "south")
    + _place("m", 2, "meeting_room", "hq-1", "meet")
    + _place("e", 7, "desk", "hq-2", "east")
    + _place("f", 1, "focus_room", "hq-2", "east")
    + _place("w", 3, "desk", "hq-3", "west")
)


def overlap(intervals: list[Interval], lo: float, hi: float) -> float:
    """Seconds of presence inside ``[lo, hi)``."""
    return sum(max(0.0, min(p.end, hi) - max(p.start, lo)) for p in intervals)


def expected_utilisation(
    plans: dict[date, dict[str, list[Interval]]], group_of: dict[str, str]
) -> dict[str, float]:
    """Occupied share of opening hours (weekdays 08-18) per group."""
    busy: dict[str, float] = defaultdict(float)
    total: dict[str, float] = defaultdict(float)
    for day, plan in plans.items():
        if day.weekday() >= 5:
            continue
        for space, intervals in plan.items():
            busy[group_of[space]] += overlap(intervals, OPENS * 3600, CLOSES * 3600)
            total[group_of[space]] += (CLOSES - OPENS) * 3600
    return {g: busy[g] / total[g] for g in total}


def expected_peaks(
    plans: dict[date, dict[str, list[Interval]]], floor_of: dict[str, str]
) -> dict[tuple[str, int], float]:
    """Highest hourly occupied share per floor and weekday in opening hours."""
    size: dict[str, int] = defaultdict(int)
    for floor in floor_of.values():
        size[floor] += 1
    best: dict[tuple[str, int], float] = {}
    for day, plan in plans.items():
        if day.weekday() >= 5:
            continue
        for hour in range(OPENS, CLOSES):
            busy: dict[str, float] = defaultdict(float)
            for space, intervals in plan.items():
                busy[floor_of[space]] += overlap(intervals, hour * 3600, (hour + 1) * 3600)
            for floor, seconds in busy.items():
                key = (floor, day.weekday())
                best[key] = max(best.get(key, 0.0), seconds / (3600 * size[floor]))
    return best


def days() -> list[date]:
    """The days of the month."""
    return [FIRST_DAY + timedelta(days=i) for i in range(DAYS)]


def expected_open_utilisation(
    plans: dict[date, dict[str, list[Interval]]],
    group_of: dict[str, str],
    table: dict[int, tuple[float, float]],
    closed: set[date],
) -> dict[str, float]:
    """Occupied share of opening time per group for any weekday table and closed days."""
    busy: dict[str, float] = defaultdict(float)
    total: dict[str, float] = defaultdict(float)
    for day, plan in plans.items():
        if day in closed or day.weekday() not in table:
            continue
        opens, closes = table[day.weekday()]
        for space, intervals in plan.items():
            busy[group_of[space]] += overlap(intervals, opens * 3600, closes * 3600)
            total[group_of[space]] += (closes - opens) * 3600
    return {g: busy[g] / total[g] for g in total}
