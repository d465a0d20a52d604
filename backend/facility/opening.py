"""Opening hours as the facility reports count them, read from the bookings domain.

A report cell is a share of *opening* time, so the hours a site is open must come
from the same table bookings are checked against (``opening_hours`` and
``holiday`` through :mod:`backend.bookings.policy`), not from a constant.
An hour bucket counts with the fraction of it that lies inside opening time, so
a site that opens at 07:30 counts half of the 07:00 hour.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time

from sqlalchemy.orm import Session

from backend.bookings import policy, times
from backend.spaces import service as spaces_service


def _hours(clock: time) -> float:
    return clock.hour + clock.minute / 60 + clock.second / 3600


@dataclass(frozen=True, slots=True)
class Opening:
    """When one site is open: weekday -> (opens, closes) in local hours, and closed days."""

    table: Mapping[int, tuple[float, float]]
    holidays: frozenset[date] = field(default_factory=frozenset)

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


def site_openings(session: Session) -> dict[str, Opening]:
    """Opening hours and holidays of every site, as the booking rules define them."""
    out: dict[str, Opening] = {}
    for site in spaces_service.list_sites(session):
        table = policy.opening_table(session, site.id)
        closed = frozenset(policy.holidays(session, site.id))
        if table is None:
            out[site.id] = Opening(DEFAULT.table, closed)
        else:
            hours = {day: (_hours(a), _hours(b)) for day, (a, b) in table.items()}
            out[site.id] = Opening(hours, closed)
    return out


def for_site(openings: Mapping[str, Opening], site: str) -> Opening:
    """The opening of ``site``; a site missing from the registry gets the defaults."""
    return openings.get(site, DEFAULT)
