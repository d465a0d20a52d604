"""Facility figures computed from grouped history: pure functions, no I/O.

The cleaning list is in :mod:`backend.facility.cleaning`, the energy figures in
:mod:`backend.facility.energy`.

Privacy: every figure is per group of spaces; a group with fewer than
``min_group`` spaces (or bookings) is reported as suppressed, never with a value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from backend.facility.opening import Opening, for_site
from history.facility import HOURS, DayRow, GroupKey, GroupTotal, PeakRow

LEVELS = ("site", "floor", "zone", "kind")
WEEKDAYS_NL = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


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


Key = tuple[str, ...]


def group_sizes(rows: Iterable[GroupTotal | DayRow], level: str) -> dict[Key, int]:
    """Spaces per report key: the most spaces a group had on one day, summed over groups."""
    per_group: dict[GroupKey, int] = {}
    for row in rows:
        per_group[row.group] = max(per_group.get(row.group, 0), row.spaces)
    size: dict[Key, int] = defaultdict(int)
    for group, n in per_group.items():
        size[level_key(group, level)] += n
    return size


def padded(group: GroupKey, level: str) -> GroupKey:
    """A group cut down to the tags of ``level``, the others left empty (how peaks are stored)."""
    site, floor, zone, kind = group
    if level == "site":
        return (site, "", "", "")
    if level == "floor":
        return (site, floor, "", "")
    if level == "zone":
        return (site, floor, zone, "")
    if level == "kind":
        return (site, "", "", kind)
    raise ValueError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")


def day_peaks(rows: Sequence[DayRow], openings: Mapping[str, Opening]) -> list[PeakRow]:
    """Per level, key and day: the highest hourly occupied share in opening time.

    The share of an hour is the key's summed occupancy over its space-hours in
    that hour (all groups of the key together), so a floor's peak is the floor's
    busiest hour, not the busiest hour of one of its zones. Holidays and closed
    hours have no peak; a key without any open hour with data gets no row.
    """
    out: list[PeakRow] = []
    for level in LEVELS:
        occ: dict[tuple[GroupKey, int], list[float]] = defaultdict(lambda: [0.0] * HOURS)
        cnt: dict[tuple[GroupKey, int], list[int]] = defaultdict(lambda: [0] * HOURS)
        weekday: dict[tuple[GroupKey, int], int] = {}
        for row in rows:
            if row.group == ("", "", "", ""):
                continue
            slot = (padded(row.group, level), row.day_ms)
            weekday[slot] = row.weekday
            for hour in range(HOURS):
                occ[slot][hour] += row.occupancy[hour]
                cnt[slot][hour] += row.samples[hour]
        for slot in sorted(occ):
            key, day_ms = slot
            opening = _opening_on(key[0], day_ms, openings)
            if opening is None:
                continue
            shares = [
                occ[slot][h] / cnt[slot][h]
                for h in range(HOURS)
                if cnt[slot][h] and opening.weight(weekday[slot], h) > 0
            ]
            if shares:
                out.append(PeakRow(level, key, day_ms, max(shares)))
    return out


@dataclass(frozen=True, slots=True)
class UtilisationRow:
    """Share of opening time occupied in one group, and its busiest hour; ``None`` when suppressed.

    ``peak`` is the highest occupied share of any single opening hour in the
    period (the group's busiest hour), next to ``utilisation``, the average.
    """

    key: Key
    spaces: int
    utilisation: float | None
    peak: float | None
    suppressed: bool


def utilisation(
    totals: list[GroupTotal],
    level: str,
    *,
    min_group: int,
    peaks: Mapping[GroupKey, float] | None = None,
) -> list[UtilisationRow]:
    """Utilisation and peak per group at ``level`` over opening time, small groups hidden."""
    peak = {level_key(k, level): v for k, v in (peaks or {}).items()}
    occ: dict[Key, float] = defaultdict(float)
    cnt: dict[Key, float] = defaultdict(float)
    for row in totals:
        key = level_key(row.group, level)
        occ[key] += row.open_occupancy
        cnt[key] += row.open_samples
    out = []
    for key, size in sorted(group_sizes(totals, level).items()):
        small = size < min_group
        value = None if small or not cnt[key] else occ[key] / cnt[key]
        out.append(UtilisationRow(key, size, value, None if small else peak.get(key), small))
    return out


@dataclass(frozen=True, slots=True)
class HeatCell:
    """Mean occupancy of one group in one weekday-hour of opening time."""

    key: Key
    weekday: int
    hour: int
    occupancy: float | None
    suppressed: bool


def _open_day(row: DayRow, openings: Mapping[str, Opening]) -> Opening | None:
    """The site's opening for a rollup row, None on one of its holidays."""
    return _opening_on(row.group[0], row.day_ms, openings)


def _opening_on(site: str, day_ms: int, openings: Mapping[str, Opening]) -> Opening | None:
    """A site's opening on the day starting at ``day_ms`` (local midnight); None on a holiday."""
    opening = for_site(openings, site)
    day = datetime.fromtimestamp(day_ms / 1000, opening.tz).date()
    return None if day in opening.holidays else opening


def heatmap(
    days: list[DayRow],
    level: str,
    *,
    openings: Mapping[str, Opening],
    min_group: int,
) -> list[HeatCell]:
    """Weekday x hour occupancy per group over open hours (holidays left out), small groups hidden.

    Peak and average of a group follow from its cells: the highest and the mean.
    """
    occ: dict[tuple[Key, int, int], float] = defaultdict(float)
    cnt: dict[tuple[Key, int, int], float] = defaultdict(float)
    for row in days:
        opening = _open_day(row, openings)
        if opening is None:
            continue
        key = level_key(row.group, level)
        for hour in range(HOURS):
            weight = opening.weight(row.weekday, hour)
            if weight and row.samples[hour]:
                occ[(key, row.weekday, hour)] += weight * row.occupancy[hour]
                cnt[(key, row.weekday, hour)] += weight * row.samples[hour]
    sizes = group_sizes(days, level)
    out = []
    for cell in sorted(occ):
        key, weekday, hour = cell
        small = sizes[key] < min_group
        value = None if small else occ[cell] / cnt[cell]
        out.append(HeatCell(key, weekday, hour, value, small))
    return out


@dataclass(frozen=True, slots=True)
class WeekRow:
    """Utilisation of one group in one ISO week (opening hours, holidays left out)."""

    key: Key
    week: str
    utilisation: float | None
    suppressed: bool


def weekly_trend(
    days: list[DayRow],
    level: str,
    *,
    openings: Mapping[str, Opening],
    min_group: int,
) -> list[WeekRow]:
    """Utilisation per group and ISO week from the daily rollup."""
    occ: dict[tuple[Key, str], float] = defaultdict(float)
    cnt: dict[tuple[Key, str], float] = defaultdict(float)
    for row in days:
        opening = _open_day(row, openings)
        if opening is None:
            continue
        iso = datetime.fromtimestamp(row.day_ms / 1000, opening.tz).date().isocalendar()
        slot = (level_key(row.group, level), f"{iso.year}-W{iso.week:02d}")
        for hour in range(HOURS):
            weight = opening.weight(row.weekday, hour)
            occ[slot] += weight * row.occupancy[hour]
            cnt[slot] += weight * row.samples[hour]
    sizes = group_sizes(days, level)
    out = []
    for slot in sorted(occ):
        small = sizes[slot[0]] < min_group
        value = None if small or not cnt[slot] else occ[slot] / cnt[slot]
        out.append(WeekRow(slot[0], slot[1], value, small))
    return out


@dataclass(frozen=True, slots=True)
class Advice:
    """A floor or zone whose peak occupancy on a weekday stays under the threshold."""

    key: Key
    weekday: int
    spaces: int
    peak: float
    setback_hours: float
    text_nl: str
    text_en: str


def peaks(
    days: Iterable[DayRow], level: str, *, openings: Mapping[str, Opening]
) -> dict[tuple[Key, int], float]:
    """Highest hourly occupancy per group and weekday over the period's open days and hours."""
    occ: dict[tuple[Key, int, int], float] = defaultdict(float)
    cnt: dict[tuple[Key, int, int], int] = defaultdict(int)
    weekday_of: dict[int, int] = {}
    for row in days:
        opening = _open_day(row, openings)
        if opening is None:
            continue
        key = level_key(row.group, level)
        weekday_of[row.day_ms] = row.weekday
        for hour in range(HOURS):
            if opening.weight(row.weekday, hour) and row.samples[hour]:
                occ[(key, row.day_ms, hour)] += row.occupancy[hour]
                cnt[(key, row.day_ms, hour)] += row.samples[hour]
    best: dict[tuple[Key, int], float] = {}
    for (key, day_ms, hour), value in occ.items():
        slot = (key, weekday_of[day_ms])
        best[slot] = max(best.get(slot, 0.0), value / cnt[(key, day_ms, hour)])
    return best


def consolidation(
    days: list[DayRow],
    level: str,
    *,
    openings: Mapping[str, Opening],
    min_group: int,
    threshold: float,
) -> list[Advice]:
    """Advise closing groups (``floor`` or ``zone``) on weekdays whose peak stays low."""
    if level not in ("floor", "zone"):
        raise ValueError("consolidation advice is per floor or zone")
    size = group_sizes(days, level)
    out = []
    for (key, weekday), peak in sorted(peaks(days, level, openings=openings).items()):
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
                setback_hours=for_site(openings, key[0]).hours(weekday),
                text_nl=f"Sluit {name} op {WEEKDAYS_NL[weekday]}: piekbezetting {pct} %",
                text_en=f"Close {name} on {WEEKDAYS_EN[weekday]}: peak occupancy {pct} %",
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class NoShowRow:
    """Bookings released as no-show against all bookings that were not cancelled."""

    site: str
    kind: str
    bookings: int
    released: int | None  # hidden with the rate: with ``bookings`` it would give it away
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
        hidden = None if small else released[key]
        out.append(NoShowRow(key[0], key[1], total[key], hidden, rate, small))
    return out
