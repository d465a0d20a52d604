"""Facility figures computed from grouped history: pure functions, no I/O.

Privacy: every figure is per group of spaces; a group with fewer than
``min_group`` spaces (or bookings) is reported as suppressed, never with a value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from backend.facility.sources import GroupHour, GroupKey
from gateway.history.base import PresencePoint

TZ = ZoneInfo("Europe/Amsterdam")
LEVELS = ("site", "floor", "zone", "kind")
#: The tags a store groups by to answer a level.
LEVEL_TAGS = {
    "site": ("site",),
    "floor": ("site", "floor"),
    "zone": ("site", "floor", "zone"),
    "kind": ("site", "kind"),
}
WEEKDAYS_NL = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class Opening:
    """Opening hours the reports count: local hours ``[opens, closes)`` on ``weekdays``."""

    opens: int = 8
    closes: int = 18
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)

    def local(self, hour_ms: int) -> datetime:
        """The local time of an hour bucket."""
        return datetime.fromtimestamp(hour_ms / 1000, TZ)

    def is_open(self, hour_ms: int) -> bool:
        """True when the hour bucket lies within opening hours."""
        moment = self.local(hour_ms)
        return moment.weekday() in self.weekdays and self.opens <= moment.hour < self.closes


def level_key(group: GroupKey, level: str) -> tuple[str, ...]:
    """The report key of a group at a level: site plus floor, zone or kind."""
    site, floor, zone, kind = group
    if level == "site":
        return (site,)
    if level == "floor":
        return (site, floor)
    if level == "zone":
        return (site, floor, zone)
    if level == "kind":
        return (site, kind)
    raise ValueError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")


@dataclass(frozen=True, slots=True)
class UtilisationRow:
    """Share of opening hours occupied in one group; ``None`` when suppressed."""

    key: tuple[str, ...]
    spaces: int
    utilisation: float | None
    suppressed: bool


def utilisation(
    hours: Iterable[GroupHour],
    spaces: dict[GroupKey, int],
    level: str,
    *,
    opening: Opening,
    min_group: int,
) -> list[UtilisationRow]:
    """Utilisation per group at ``level`` over opening hours, small groups suppressed."""
    total: dict[tuple[str, ...], float] = defaultdict(float)
    count: dict[tuple[str, ...], int] = defaultdict(int)
    for row in hours:
        if opening.is_open(row.hour_ms):
            key = level_key(row.group, level)
            total[key] += row.occupancy_sum
            count[key] += row.rows
    size: dict[tuple[str, ...], int] = defaultdict(int)
    for group, n in spaces.items():
        size[level_key(group, level)] += n
    out = []
    for key in sorted(size):
        small = size[key] < min_group
        value = None if small or not count[key] else total[key] / count[key]
        out.append(UtilisationRow(key, size[key], value, small))
    return out


@dataclass(frozen=True, slots=True)
class Advice:
    """A floor or zone whose peak occupancy on a weekday stays under the threshold."""

    key: tuple[str, ...]
    weekday: int
    spaces: int
    peak: float
    setback_hours: int
    text_nl: str
    text_en: str


def peaks(
    hours: Iterable[GroupHour], level: str, *, opening: Opening
) -> dict[tuple[tuple[str, ...], int], float]:
    """Highest hourly occupancy per group and weekday over the period (opening hours)."""
    total: dict[tuple[tuple[str, ...], int], float] = defaultdict(float)
    count: dict[tuple[tuple[str, ...], int], int] = defaultdict(int)
    for row in hours:
        if opening.is_open(row.hour_ms):
            bucket = (level_key(row.group, level), row.hour_ms)
            total[bucket] += row.occupancy_sum
            count[bucket] += row.rows
    best: dict[tuple[tuple[str, ...], int], float] = {}
    for (key, hour_ms), value in total.items():
        slot = (key, opening.local(hour_ms).weekday())
        best[slot] = max(best.get(slot, 0.0), value / count[(key, hour_ms)])
    return best


def consolidation(
    hours: Sequence[GroupHour],
    spaces: dict[GroupKey, int],
    level: str,
    *,
    opening: Opening,
    min_group: int,
    threshold: float,
) -> list[Advice]:
    """Advise closing groups (``floor`` or ``zone``) on weekdays whose peak stays low."""
    if level not in ("floor", "zone"):
        raise ValueError("consolidation advice is per floor or zone")
    size: dict[tuple[str, ...], int] = defaultdict(int)
    for group, n in spaces.items():
        size[level_key(group, level)] += n
    out = []
    for (key, weekday), peak in sorted(peaks(hours, level, opening=opening).items()):
        if size[key] < min_group or peak >= threshold:
            continue
        name = " ".join(key[1:])
        pct = round(peak * 100)
        out.append(
            Advice(
                key=key,
                weekday=weekday,
                spaces=size[key],
                peak=peak,
                setback_hours=opening.closes - opening.opens,
                text_nl=f"Sluit {name} op {WEEKDAYS_NL[weekday]}: piekbezetting {pct} %",
                text_en=f"Close {name} on {WEEKDAYS_EN[weekday]}: peak occupancy {pct} %",
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class CleaningEntry:
    """One space on the cleaning list."""

    site: str
    floor: str
    space: str
    kind: str
    occupied_minutes: float
    clean: bool


def cleaning_list(
    points: Sequence[PresencePoint], end_ms: int, *, min_minutes: float
) -> list[CleaningEntry]:
    """Spaces to clean (occupied at least ``min_minutes``) and to skip, from raw points.

    A reported state holds until the space's next point, the last one until ``end_ms``.
    """
    by_space: dict[str, list[PresencePoint]] = defaultdict(list)
    for point in points:
        if point.space:
            by_space[point.space].append(point)
    out = []
    for space, rows in sorted(by_space.items()):
        rows.sort(key=lambda p: p.time_ms)
        occupied_ms = 0
        for here, after in zip(rows, [*rows[1:], None], strict=True):
            stop = after.time_ms if after is not None else max(end_ms, here.time_ms)
            if here.occupied:
                occupied_ms += stop - here.time_ms
        minutes = occupied_ms / 60_000
        last = rows[-1]
        out.append(
            CleaningEntry(
                site=last.site,
                floor=last.floor or "",
                space=space,
                kind=last.kind or "",
                occupied_minutes=round(minutes, 2),
                clean=minutes >= min_minutes,
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class NoShowRow:
    """Bookings released as no-show against all bookings that were not cancelled."""

    site: str
    kind: str
    bookings: int
    released: int
    rate: float | None
    suppressed: bool


def no_show_rates(
    counts: Iterable[tuple[str, str, bool, int]], *, min_group: int
) -> list[NoShowRow]:
    """No-show rate per site and kind from ``(site, kind, no_show, n)`` rows.

    The caller leaves cancelled bookings out: nobody was expected. A group with
    fewer than ``min_group`` bookings is suppressed.
    """
    total: dict[tuple[str, str], int] = defaultdict(int)
    released: dict[tuple[str, str], int] = defaultdict(int)
    for site, kind, no_show, n in counts:
        total[(site, kind)] += n
        if no_show:
            released[(site, kind)] += n
    out = []
    for key in sorted(total):
        small = total[key] < min_group
        rate = None if small else released[key] / total[key]
        out.append(NoShowRow(key[0], key[1], total[key], released[key], rate, small))
    return out
