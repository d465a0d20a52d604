"""Work days per kind of base over time, for the municipality's sustainability reporting.

Each person-day counts once, at one base kind: a check-in at a site (the person was
there) wins over the plan; without a check-in the plan counts (a site's kind, or
home). A cell (period, kind) with people but fewer than ``min_group`` of them is
suppressed: its figures are ``None``, never the small number. Plans reach back only
as far as their retention (``WERKPLEK_PLAN_RETENTION_WEEKS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.bookings.models import Booking
from backend.errors import InvalidInput
from backend.plans.models import WorkPlan
from backend.plans.service import FIRST_DAY, LAST_DAY
from backend.spaces.models import Site

#: The four kinds of base of *Dichtbij en Duurzaam*, in report order.
KINDS = ("central_office", "field_base", "satellite", "home")
Period = Literal["week", "month"]
#: The longest range one report covers.
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class KindRow:
    """Work days at one kind of base in one period; ``None`` figures when suppressed."""

    period: str
    kind: str
    work_days: int | None
    people: int | None
    checked_in_days: int | None
    suppressed: bool


def period_of(day: date, period: Period) -> date:
    """The first day of the week (Monday) or month ``day`` lies in."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _periods(start: date, end: date, period: Period) -> list[date]:
    out: list[date] = []
    cur = period_of(start, period)
    while cur <= end:
        out.append(cur)
        cur = (
            cur + timedelta(days=7)
            if period == "week"
            else (cur + timedelta(days=32)).replace(day=1)
        )
    return out


def check_range(start: date, end: date) -> None:
    """Refuse a reversed or too long range."""
    if not (FIRST_DAY <= start and end <= LAST_DAY):
        raise InvalidInput(
            f"dates must lie between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}",
            reason="date_out_of_range",
        )
    if end < start:
        raise InvalidInput("end is before start", reason="bad_range")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput(f"a report covers at most {MAX_DAYS} days", reason="range_too_long")


def work_days(
    session: Session, start: date, end: date, *, period: Period, min_group: int
) -> list[KindRow]:
    """Rows for every period in ``start..end`` and every kind of base."""
    check_range(start, end)
    kinds = {s.id: s.kind for s in session.scalars(select(Site))}
    where: dict[tuple[int, date], tuple[str, bool]] = {}
    for user_id, day, site_id in session.execute(
        select(WorkPlan.user_id, WorkPlan.day, WorkPlan.site_id).where(
            WorkPlan.day.between(start, end)
        )
    ).all():
        kind = "home" if site_id is None else kinds.get(site_id)
        if kind is not None:
            where[(user_id, day)] = (kind, False)
    for booker, day, site_id in session.execute(
        select(Booking.user_id, Booking.local_day, Booking.site_id).where(
            Booking.local_day.between(start, end),
            Booking.checked_in_at.is_not(None),
            Booking.user_id.is_not(None),
            Booking.guest_name.is_(None),
        )
    ).all():
        if booker is not None and site_id in kinds:
            where[(booker, day)] = (kinds[site_id], True)
    cells: dict[tuple[date, str], tuple[list[int], int]] = {}
    for (user_id, day), (kind, checked) in where.items():
        key = (period_of(day, period), kind)
        users, checked_days = cells.get(key, ([], 0))
        users.append(user_id)
        cells[key] = (users, checked_days + int(checked))
    rows: list[KindRow] = []
    for first in _periods(start, end, period):
        for kind in KINDS:
            users, checked_days = cells.get((first, kind), ([], 0))
            people = len(set(users))
            label = first.isoformat() if period == "week" else first.strftime("%Y-%m")
            if 0 < people < min_group:
                rows.append(KindRow(label, kind, None, None, None, True))
            else:
                rows.append(KindRow(label, kind, len(users), people, checked_days, False))
    return rows
