"""The daily rollup: hourly history summed per group of spaces and local day.

Why: InfluxDB 1.6 needs ~20 s to return a year of hour-by-hour groups for 500
spaces. The reports need far less: per group (site, floor, zone, kind), per local
day, per local hour, the summed occupancy and the number of space-hours. This job
asks the store to aggregate one day (``GROUP BY time(1h), site, floor, zone, kind``
over the hourly history), folds the hours into one :class:`DayRow` per group and
writes it back with the day's local midnight as its time, so running a day again
overwrites it (idempotent). At start it catches up every day missed since the
last rolled-up one; afterwards it re-rolls today and the days late points can
still change. Every site's day is its own: from its local midnight to the next,
in the zone of its ``Site.timezone`` (:attr:`Opening.tz`); no helper here has a
zone of its own.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from backend.facility.opening import Opening, for_site, zones_in_use
from backend.facility.service import day_peaks
from history.facility import EMPTY, HOURS, DayRow, GroupKey, HistorySource

log = logging.getLogger(__name__)

#: Never catch up further back than this (the hourly history may reach years back).
MAX_CATCH_UP_DAYS = 400
#: Late points (a node's offline buffer) can change this many past days.
REROLL_DAYS = 2


def midnight_ms(day: date, tz: ZoneInfo) -> int:
    """Epoch ms of local midnight of ``day``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp() * 1000)


def local_day(ms: int, tz: ZoneInfo) -> date:
    """The local calendar day of an epoch-ms moment."""
    return datetime.fromtimestamp(ms / 1000, tz).date()


def build_day(
    hours: list[tuple[GroupKey, int, float, int]],
    day: date,
    openings: Mapping[str, Opening],
) -> list[DayRow]:
    """Fold ``(group, hour_ms, occupancy_sum, space_hours)`` of one day into rows per group.

    Every group is counted in its site's own time zone (``Opening.tz``): its row
    starts at the site's local midnight and hour ``h`` is the site's local hour.
    The local hour of each bucket is taken from the clock, so on the day the
    clocks go back the repeated hour adds into the same field. The opening-time
    sums use the site's opening hours and holidays as they are when the day is
    rolled up: a past day keeps the hours it had unless it is rolled up again.
    The empty marker row of a day without any history belongs to no site: it
    starts at midnight in the zone of history without a registered site.
    """
    occ: dict[GroupKey, list[float]] = defaultdict(lambda: [0.0] * HOURS)
    cnt: dict[GroupKey, list[int]] = defaultdict(lambda: [0] * HOURS)
    for group, hour_ms, total, count in hours:
        site_tz = for_site(openings, group[0]).tz
        hour = datetime.fromtimestamp(hour_ms / 1000, site_tz).hour
        occ[group][hour] += total
        cnt[group][hour] += count
    if not occ:  # a day without history still gets a row, so catch-up knows it was done
        zeros = tuple(0.0 for _ in range(HOURS))
        base = midnight_ms(day, for_site(openings, EMPTY[0]).tz)
        return [DayRow(EMPTY, base, day.weekday(), zeros, tuple(0 for _ in range(HOURS)), 0, 0, 0)]
    out = []
    for group in sorted(occ):
        opening = for_site(openings, group[0])
        weights = [0.0 if day in opening.holidays else opening.weight(day.weekday(), h)
                   for h in range(HOURS)]  # fmt: skip
        out.append(
            DayRow(
                group, midnight_ms(day, opening.tz), day.weekday(), tuple(occ[group]),
                tuple(cnt[group]), max(cnt[group]),
                sum(w * v for w, v in zip(weights, occ[group], strict=True)),
                sum(w * v for w, v in zip(weights, cnt[group], strict=True)),
            )
        )  # fmt: skip
    return out


def rollup_day(source: HistorySource, day: date, openings: Mapping[str, Opening]) -> int:
    """Roll up one local day of every site, each in its own zone; returns the rows written.

    The store is asked once per time zone in use (usually one), for that zone's
    day, and keeps the groups of the sites in that zone.
    """
    hours: list[tuple[GroupKey, int, float, int]] = []
    for tz in zones_in_use(openings):
        lo = midnight_ms(day, tz)
        hi = midnight_ms(day + timedelta(days=1), tz)
        hours.extend(
            (h.group, h.hour_ms, h.occupancy_sum, h.rows)
            for h in source.group_hours(lo, hi)
            if for_site(openings, h.group[0]).tz.key == tz.key
        )
    rows = build_day(hours, day, openings)
    source.write_days(rows)
    source.write_peaks(day_peaks(rows, openings))
    return len(rows)


def newest_day(ms: int, zones: Sequence[ZoneInfo]) -> date:
    """The day whose midnight ``ms`` is, in whichever zone in use wrote it.

    A site's row starts at its own midnight: in zones west of it that moment is
    still the day before, in zones east of it already later on the same day, so
    the latest local date over the zones is the row's own (zones < 24 h apart).
    """
    return max(local_day(ms, tz) for tz in zones)


def oldest_day(ms: int, zones: Sequence[ZoneInfo]) -> date:
    """The earliest local day ``ms`` falls on in any zone in use (where catch-up starts)."""
    return min(local_day(ms, tz) for tz in zones)


def days_to_roll(source: HistorySource, today: date, openings: Mapping[str, Opening]) -> list[date]:
    """Days missing from the rollup up to today, plus the recent days late points may change.

    Read in the zones of the sites (``openings``), so a site far west or east
    neither skips its newest day nor rolls one twice.
    """
    zones = zones_in_use(openings)
    last = source.last_rolled_day()
    if last is None:
        first = source.first_hour()
        if first is None:
            return []
        start = oldest_day(first, zones)
    else:
        start = min(
            newest_day(last, zones) + timedelta(days=1), today - timedelta(days=REROLL_DAYS)
        )
    start = max(start, today - timedelta(days=MAX_CATCH_UP_DAYS))
    return [start + timedelta(days=i) for i in range((today - start).days + 1)]


def catch_up(source: HistorySource, today: date, openings: Mapping[str, Opening]) -> int:
    """Roll every day :func:`days_to_roll` names; returns the number of days rolled."""
    days = days_to_roll(source, today, openings)
    for day in days:
        rollup_day(source, day, openings)
    if days:
        log.info("facility rollup: %d days from %s to %s", len(days), days[0], days[-1])
    return len(days)
