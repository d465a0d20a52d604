"""Opening hours as the facility reports count them, read from the bookings domain.

A report cell is a share of *opening* time, so the hours a site is open must come
from the same table bookings are checked against (``opening_hours`` and
``holiday`` through :mod:`backend.bookings.policy`), not from a constant.
An hour bucket counts with the fraction of it that lies inside opening time, so
a site that opens at 07:30 counts half of the 07:00 hour.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from backend.bookings import policy, times
from backend.spaces import service as spaces_service

log = logging.getLogger(__name__)

#: The zone of a site without a valid one of its own (Site.timezone's default too).
DEFAULT_TZ = ZoneInfo("Europe/Amsterdam")


def _hours(clock: time) -> float:
    return clock.hour + clock.minute / 60 + clock.second / 3600


@dataclass(frozen=True, slots=True)
class Opening:
    """When one site is open: weekday -> (opens, closes) in local hours, and closed days.

    ``tz`` is the site's own time zone: its days start at its local midnight and
    its hours are its local hours, so a site abroad is not counted in Dutch time.
    """

    table: Mapping[int, tuple[float, float]]
    holidays: frozenset[date] = field(default_factory=frozenset)
    tz: ZoneInfo = DEFAULT_TZ

    @classmethod
    def weekdays(cls, opens: float, closes: float) -> Opening:
        """Monday to Friday from ``opens`` to ``closes`` (tests and defaults)."""
        return cls(dict.fromkeys(range(5), (opens, closes)))

    def weight(self, weekday: int, hour: int) -> float:
        """Fraction of local hour ``[hour, hour + 1)`` on ``weekday`` that the site is open."""
        span = self.table.get(weekday)
        if span is None:
            return 0.0
        return max(0.0, min(span[1], hour + 1) - max(span[0], hour))

    def hours(self, weekday: int) -> float:
        """Open hours on a weekday."""
        span = self.table.get(weekday)
        return 0.0 if span is None else max(0.0, span[1] - span[0])


#: What a site without its own table gets: the bookings domain's defaults.
DEFAULT = Opening(
    dict.fromkeys(range(5), (_hours(times.DEFAULT_OPENS), _hours(times.DEFAULT_CLOSES)))
)


def zone_of(name: str | None, site: str = "?") -> ZoneInfo:
    """The ZoneInfo of a site's ``timezone``; an unknown name falls back to the default."""
    try:
        return ZoneInfo(name) if name else DEFAULT_TZ
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("site %s has an unknown time zone %r; using %s", site, name, DEFAULT_TZ.key)
        return DEFAULT_TZ


def site_openings(session: Session) -> dict[str, Opening]:
    """Opening hours, holidays and time zone of every site, as the booking rules define them."""
    out: dict[str, Opening] = {}
    for site in spaces_service.list_sites(session):
        table = policy.opening_table(session, site.id)
        closed = frozenset(policy.holidays(session, site.id))
        tz = zone_of(site.timezone, site.id)
        if table is None:
            out[site.id] = Opening(DEFAULT.table, closed, tz)
        else:
            hours = {day: (_hours(a), _hours(b)) for day, (a, b) in table.items()}
            out[site.id] = Opening(hours, closed, tz)
    return out


def zones_in_use(openings: Mapping[str, Opening]) -> list[ZoneInfo]:
    """Every time zone of the sites' openings, once (see :func:`distinct_zones`)."""
    return distinct_zones(opening.tz for opening in openings.values())


def distinct_zones(tzs: Iterable[ZoneInfo]) -> list[ZoneInfo]:
    """Each zone once, sorted; the default always included (history of unregistered sites)."""
    keys = {DEFAULT_TZ.key: DEFAULT_TZ}
    for tz in tzs:
        keys.setdefault(tz.key, tz)
    return [keys[k] for k in sorted(keys)]


def span_ms(days_from: date, days_to: date, tzs: Iterable[ZoneInfo]) -> tuple[int, int]:
    """From the earliest local midnight of ``days_from`` to the latest after ``days_to``.

    The rollup stores each site's day at that site's own midnight, so a period
    read for sites in several zones must reach from the first zone's midnight to
    the last one's (sites less than a day apart never pick up a neighbouring day).
    """
    los, his = [], []
    after = days_to + timedelta(days=1)
    for tz in tzs:
        los.append(datetime(days_from.year, days_from.month, days_from.day, tzinfo=tz))
        his.append(datetime(after.year, after.month, after.day, tzinfo=tz))
    return int(min(los).timestamp() * 1000), int(max(his).timestamp() * 1000)


def for_site(openings: Mapping[str, Opening], site: str) -> Opening:
    """The opening of ``site``; a site missing from the registry gets the defaults."""
    return openings.get(site, DEFAULT)
