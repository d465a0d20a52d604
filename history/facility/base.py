"""What the facility reports read from history, and the rows of the daily rollup.

The rollup (``facility_daily``, ``facility_peak``) is written and read by the
backend only; the raw and hourly history it is made from is the gateway's. See
the ownership table in :mod:`history`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from history.base import PresencePoint

#: (site, floor, zone, kind): the finest group a report ever shows.
GroupKey = tuple[str, str, str, str]
TAGS = ("site", "floor", "zone", "kind")
#: The group of the marker row of a rolled-up day without any history; never reported.
EMPTY: GroupKey = ("", "", "", "")
HOURS = 24
#: Field names of the daily rollup: occupancy sums and space-hour counts per local hour.
OCC = tuple(f"o{h:02d}" for h in range(HOURS))
CNT = tuple(f"n{h:02d}" for h in range(HOURS))
DAILY = "facility_daily"
#: Daily peaks per report key and level (see :class:`PeakRow`).
PEAK = "facility_peak"
#: InfluxDB retention policy of the rollup: kept forever, in shards of ten years. With
#: the default 7-day shards a year is 52 shards, and InfluxDB 1.x opens a cursor per
#: shard, series and field: a year's report spent seconds on that alone.
ROLLUP_RP = "facility"
ROLLUP_SHARD = "520w"


@dataclass(frozen=True, slots=True)
class SiteTimeZones:
    """The time zone each site's days run in, handed down by the backend (which knows sites).

    ``by_site`` maps a site id to its own zone; history of a site missing from it
    (not, or no longer, registered) is counted in ``default``. The readers bucket a
    space's days at its site's local midnight with it, so a site abroad is not
    split at Dutch midnight.
    """

    default: ZoneInfo
    by_site: Mapping[str, ZoneInfo] = field(default_factory=dict)

    def of(self, site: str) -> ZoneInfo:
        """The zone of ``site`` (``default`` for a site not named)."""
        return self.by_site.get(site, self.default)

    def elsewhere(self) -> dict[str, tuple[str, ...]]:
        """Zone name -> the sites (sorted) whose zone is not ``default``, per zone, sorted."""
        out: dict[str, list[str]] = {}
        for site, tz in self.by_site.items():
            if tz.key != self.default.key:
                out.setdefault(tz.key, []).append(site)
        return {key: tuple(sorted(out[key])) for key in sorted(out)}


@dataclass(frozen=True, slots=True)
class DayRow:
    """One group on one local day: per local hour the summed occupancy and space-hours.

    ``occupancy[h] / samples[h]`` is the group's occupied share in hour ``h``;
    ``spaces`` is the most spaces that reported in any hour of the day.
    ``open_occupancy`` and ``open_samples`` are the same sums over the site's
    opening time of that day only (hours weighted by their open fraction; zero on
    a closed day), so the long-period report reads three fields, not 48.
    """

    group: GroupKey
    day_ms: int
    weekday: int
    occupancy: tuple[float, ...]
    samples: tuple[int, ...]
    spaces: int
    open_occupancy: float
    open_samples: float


@dataclass(frozen=True, slots=True)
class PeakRow:
    """The highest hourly occupied share of one report key on one local day (open hours).

    ``key`` is padded to (site, floor, zone, kind) with the tags the ``level``
    does not use left empty. Written by the rollup for every level, so the
    utilisation report reads one small field per key and day, not 48.
    """

    level: str
    key: GroupKey
    day_ms: int
    peak: float


@dataclass(frozen=True, slots=True)
class GroupTotal:
    """One group's opening-time sums over a period, added up by the store."""

    group: GroupKey
    open_occupancy: float
    open_samples: float
    spaces: int


@dataclass(frozen=True, slots=True)
class GroupHour:
    """Summed hourly occupancy of one group of spaces in one hour."""

    group: GroupKey
    hour_ms: int
    occupancy_sum: float
    rows: int


class HistorySource(Protocol):
    """What the facility reports need from the history store."""

    def group_hours(
        self, start_ms: int, end_ms: int, by: tuple[str, ...] = TAGS
    ) -> list[GroupHour]:
        """Hourly occupancy summed per group of the tags ``by`` (others left empty)."""

    def raw_points(self, start_ms: int, end_ms: int) -> list[PresencePoint]:
        """Raw presence points of every space in the range, oldest first."""

    def used_space_days(
        self, start_ms: int, end_ms: int, min_minutes: float, zones: SiteTimeZones
    ) -> set[tuple[str, str, str, date]]:
        """``(site, kind, space, local day)`` of every space occupied at least ``min_minutes``.

        A day is the site's own local day (``zones``), from its midnight to the next.
        """

    def write_days(self, rows: list[DayRow]) -> None:
        """Store rollup rows; a row for the same group and day replaces the old one."""

    def day_rows(self, start_ms: int, end_ms: int) -> list[DayRow]:
        """Rollup rows of the days starting in the range."""

    def group_totals(self, start_ms: int, end_ms: int) -> list[GroupTotal]:
        """Opening-time sums per group over the rollup days in the range, summed in the store."""

    def write_peaks(self, rows: list[PeakRow]) -> None:
        """Store daily peaks; a row for the same level, key and day replaces the old one."""

    def peaks(self, start_ms: int, end_ms: int, level: str) -> dict[GroupKey, float]:
        """The highest daily peak per key of ``level`` over the days in the range."""

    def last_rolled_day(self) -> int | None:
        """Local midnight (ms) of the newest rolled-up day, None before the first."""

    def first_hour(self) -> int | None:
        """Start (ms) of the oldest hourly history, None when there is none."""

    def close(self) -> None:
        """Release connections."""


def group_key(site: Any, floor: Any, zone: Any, kind: Any) -> GroupKey:
    """A group key from tag values; a missing tag is the empty string."""
    return (str(site or ""), str(floor or ""), str(zone or ""), str(kind or ""))
