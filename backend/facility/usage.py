"""Booked versus used, and quiet-desk demand versus supply: bookings meet the history.

Pure functions; the router gathers the counts. Every row is per site and kind
of space (never per person or per booking), and a row built from fewer than
``min_group`` bookings plus walk-ins is suppressed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class BookingFact:
    """What the report needs of one booking that was not cancelled."""

    site: str
    kind: str
    space: str
    day: date
    checked_in: bool
    no_show: bool
    released: bool


@dataclass(frozen=True, slots=True)
class UsageRow:
    """Booked versus used for one site and kind of space.

    ``walk_ins`` are space-days used (occupied at least the cleaning minimum)
    without any booking of that space that day.
    """

    site: str
    kind: str
    bookings: int
    #: The counts are ``None`` in a suppressed row: next to ``bookings`` they give the rates away.
    checked_in: int | None
    no_shows: int | None
    released_other: int | None
    walk_ins: int | None
    no_show_rate: float | None
    walk_in_share: float | None
    suppressed: bool


def booked_vs_used(
    bookings: Iterable[BookingFact],
    used: Iterable[tuple[str, str, str, date]],
    *,
    min_group: int,
) -> list[UsageRow]:
    """Combine bookings and used space-days ``(site, kind, space, day)`` per site and kind."""
    count: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    booked: set[tuple[str, date]] = set()
    for b in bookings:
        row = count[(b.site, b.kind)]
        row[0] += 1
        row[1] += b.checked_in
        row[2] += b.no_show
        row[3] += b.released and not b.no_show
        booked.add((b.space, b.day))
    walk: dict[tuple[str, str], int] = defaultdict(int)
    for site, kind, space, day in used:
        if (space, day) not in booked:
            walk[(site, kind)] += 1
    out = []
    for key in sorted(set(count) | set(walk)):
        total, checked, no_show, other = count[key]
        small = total + walk[key] < min_group
        out.append(
            UsageRow(
                site=key[0], kind=key[1], bookings=total,
                checked_in=None if small else checked, no_shows=None if small else no_show,
                released_other=None if small else other, walk_ins=None if small else walk[key],
                no_show_rate=None if small or not total else no_show / total,
                walk_in_share=None if small else walk[key] / (total + walk[key]),
                suppressed=small,
            )
        )  # fmt: skip
    return out


@dataclass(frozen=True, slots=True)
class QuietRow:
    """Quiet desks of one site: how many there are and how many were booked per open day."""

    site: str
    supply: int
    days: int
    average_demand: float | None
    peak_demand: int | None
    full_days: int | None
    suppressed: bool


def quiet_demand(
    supply: dict[str, int],
    booked_per_day: dict[tuple[str, date], int],
    open_days: dict[str, int],
    *,
    min_group: int,
) -> list[QuietRow]:
    """Average and peak daily bookings of quiet desks against their number, per site.

    ``open_days`` counts the site's open days in the period (days without a
    booking count as zero demand). A site with fewer quiet desks than
    ``min_group`` is suppressed: a handful of desks could point at a person.
    """
    per_site: dict[str, list[int]] = defaultdict(list)
    for (site, _), n in booked_per_day.items():
        per_site[site].append(n)
    out = []
    for site in sorted(supply):
        days = open_days.get(site, 0)
        values = per_site.get(site, [])
        if supply[site] < min_group or not days:
            out.append(QuietRow(site, supply[site], days, None, None, None, True))
            continue
        out.append(
            QuietRow(
                site, supply[site], days, sum(values) / days, max(values, default=0),
                sum(1 for v in values if v >= supply[site]), False,
            )
        )  # fmt: skip
    return out
