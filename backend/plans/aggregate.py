"""Counts of week plans for facility use (energy forecast, consolidation, sustainability).

Only counts leave this module, and only when at least ``min_group`` people are in
them (the reports' small-cell rule, ``WERKPLEK_FACILITY_MIN_GROUP``): below it a
count is suppressed, reported as 0 with ``suppressed`` set, never as the small number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.bookings.models import ACTIVE, Booking
from backend.plans.models import WorkPlan
from backend.spaces.models import Space


@dataclass(frozen=True, slots=True)
class PlannedCount:
    """How many people plan to work at one site on one day.

    ``people``: people whose plan names the site or who hold an active desk booking
    there that day. ``by_floor``: floor id -> people with an active desk booking on
    that floor that day. When ``people`` is under ``min_group`` the whole count is
    suppressed: ``people`` is 0 and ``by_floor`` empty.
    """

    people: int
    by_floor: dict[str, int] = field(default_factory=dict)
    suppressed: bool = False
    #: The small-cell threshold that was applied.
    min_group: int = 5


def _desk_bookers(session: Session, site_id: str, day: date) -> list[tuple[int, str]]:
    """(user id, floor id) of every person holding an active desk booking there that day."""
    rows = session.execute(
        select(Booking.user_id, Space.floor_id)
        .join(Space, Space.id == Booking.space_id)
        .where(
            Booking.site_id == site_id,
            Booking.local_day == day,
            Booking.space_kind == "desk",
            Booking.status.in_(ACTIVE),
            Booking.user_id.is_not(None),
            Booking.guest_name.is_(None),
        )
    ).all()
    return [(user, floor) for user, floor in rows if user is not None]


def planned_counts(session: Session, *, site_id: str, day: date, min_group: int) -> PlannedCount:
    """The people planning to work at ``site_id`` on ``day``, suppressed below ``min_group``.

    ``min_group`` is the app's privacy floor (``Settings.facility_min_group``).
    """
    k = min_group
    planners = set(
        session.scalars(
            select(WorkPlan.user_id).where(
                WorkPlan.day == day, WorkPlan.place == "site", WorkPlan.site_id == site_id
            )
        )
    )
    bookers = _desk_bookers(session, site_id, day)
    people = planners | {user for user, _ in bookers}
    if len(people) < k:
        return PlannedCount(people=0, by_floor={}, suppressed=True, min_group=k)
    per_floor: dict[str, set[int]] = {}
    for user, floor in bookers:
        per_floor.setdefault(floor, set()).add(user)
    by_floor = {floor: len(users) for floor, users in sorted(per_floor.items())}
    return PlannedCount(people=len(people), by_floor=by_floor, suppressed=False, min_group=k)
