"""The week plans as the energy forecast and the consolidation advice read them.

The plans domain (:mod:`backend.plans.aggregate`) hands out counts only, and only
when at least ``min_group`` people plan a site on a day; below that a count is
*suppressed*: it is 0, never shown and never used. This module is the facility
side of that port: one reader per request (a dependency, so tests can hand in
their own), and :class:`SitePlans`, what an answer may say about a site's plans.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy.orm import Session

from backend.plans.aggregate import planned_counts


class PlanCount(Protocol):
    """What the facility needs of a plans count (``backend.plans.aggregate.PlannedCount``)."""

    @property
    def people(self) -> int:
        """People planning to work at the site that day (0 when suppressed)."""

    @property
    def by_floor(self) -> dict[str, int]:
        """Floor id -> people with a desk booking there that day (empty when suppressed)."""

    @property
    def suppressed(self) -> bool:
        """True when fewer than ``min_group`` people plan the site that day."""


#: ``reader(session, site_id, day, min_group)``: the plans count of one site and day.
PlansReader = Callable[[Session, str, date, int], PlanCount]


def read_planned(session: Session, site_id: str, day: date, min_group: int) -> PlanCount:
    """The plans domain's aggregate, with the reports' privacy floor."""
    return planned_counts(session, site_id=site_id, day=day, min_group=min_group)


def plans_reader() -> PlansReader:
    """The reader of a request (a FastAPI dependency)."""
    return read_planned


@dataclass(frozen=True, slots=True)
class SitePlans:
    """One site's plans for one day as an answer may show them.

    ``people`` is None when suppressed; ``unbooked`` (people without a desk
    booking that day) is only used, never shown: it could be a small number.
    """

    site: str
    day: date
    people: int | None
    suppressed: bool
    by_floor: dict[str, int]
    unbooked: int

    def public(self, min_group: int) -> dict[str, object]:
        """The JSON of the site's plans: counts under ``min_group`` left out."""
        return {
            "site": self.site,
            "day": self.day.isoformat(),
            "people": self.people,
            "suppressed": self.suppressed,
            "desk_bookers_by_floor": {f: n for f, n in self.by_floor.items() if n >= min_group},
        }


def site_plans(
    session: Session, reader: PlansReader, sites: Iterable[str], day: date, min_group: int
) -> dict[str, SitePlans]:
    """The plans of every site in ``sites`` on its local ``day``."""
    out = {}
    for site in sorted(set(sites)):
        count = reader(session, site, day, min_group)
        if count.suppressed:
            out[site] = SitePlans(site, day, None, True, {}, 0)
            continue
        booked = sum(count.by_floor.values())
        unbooked = max(0, count.people - booked)
        out[site] = SitePlans(site, day, count.people, False, dict(count.by_floor), unbooked)
    return out
