"""The week plan of one person: read, set, clear, copy last week, default pattern.

A desk booking fills the plan in: reading a day with an active desk booking shows
the booking's site (source ``booking``) whatever the stored row says, so a booking
made anywhere (app, door panel, QR) counts at once and a cancelled one stops counting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.bookings.models import ACTIVE, Booking
from backend.errors import InvalidInput
from backend.plans.models import PlanPattern, WorkPlan
from backend.plans.schemas import (
    DeskOfDay,
    Pattern,
    PatternDay,
    PlaceChoice,
    PlanDay,
    Week,
)
from backend.plans.settings import plan_settings
from backend.spaces.models import Site, Space, utcnow


def week_of(day: date) -> date:
    """The Monday of the week ``day`` lies in."""
    return day - timedelta(days=day.weekday())


#: Weeks that can be read at all (a date near the calendar's ends has no whole week).
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)


def week_days(week: date) -> list[date]:
    """Monday to Sunday of a week."""
    if not FIRST_DAY <= week <= LAST_DAY:
        raise InvalidInput(
            f"week must lie between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}",
            reason="week_out_of_range",
        )
    monday = week_of(week)
    return [monday + timedelta(days=n) for n in range(7)]


def today() -> date:
    """Today's date (UTC; the bounds below are weeks wide, so the zone does not matter)."""
    return utcnow().date()


def check_day(day: date) -> None:
    """Refuse a day outside what can be planned: before the retention or over a year ahead."""
    oldest = today() - timedelta(weeks=plan_settings().plan_retention_weeks)
    latest = today() + timedelta(days=366)
    if not oldest <= day <= latest:
        raise InvalidInput(
            f"{day.isoformat()} is outside the days that can be planned "
            f"({oldest.isoformat()} to {latest.isoformat()})",
            reason="day_out_of_range",
        )


def check_site(session: Session, site_id: str | None) -> Site | None:
    """The named site, or an error naming it when it does not exist."""
    if site_id is None:
        return None
    site = session.get(Site, site_id)
    if site is None:
        raise InvalidInput(f"there is no site {site_id!r}", reason="unknown_site")
    return site


@dataclass(frozen=True, slots=True)
class Effective:
    """Where a person is planned on a day, the desk booking winning over the stored plan."""

    place: str
    site_id: str | None
    source: str
    desk: DeskOfDay | None = None


def desk_bookings(
    session: Session, user_ids: Iterable[int], start: date, end: date
) -> dict[tuple[int, date], tuple[Booking, Space]]:
    """Active desk bookings of these people on ``start..end`` (first of a day wins)."""
    ids = list(user_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Booking, Space)
        .join(Space, Space.id == Booking.space_id)
        .where(
            Booking.user_id.in_(ids),
            Booking.local_day.between(start, end),
            Booking.space_kind == "desk",
            Booking.status.in_(ACTIVE),
            Booking.guest_name.is_(None),
        )
        .order_by(Booking.start_at)
    ).all()
    found: dict[tuple[int, date], tuple[Booking, Space]] = {}
    for booking, space in rows:
        if booking.user_id is not None:
            found.setdefault((booking.user_id, booking.local_day), (booking, space))
    return found


def effective(
    session: Session, user_ids: Iterable[int], start: date, end: date
) -> dict[tuple[int, date], Effective]:
    """Each person's place per day on ``start..end``: desk booking first, then the plan."""
    ids = list(user_ids)
    if not ids:
        return {}
    result: dict[tuple[int, date], Effective] = {}
    plans = session.scalars(
        select(WorkPlan).where(WorkPlan.user_id.in_(ids), WorkPlan.day.between(start, end))
    )
    for plan in plans:
        result[(plan.user_id, plan.day)] = Effective(plan.place, plan.site_id, plan.source)
    for key, (booking, space) in desk_bookings(session, ids, start, end).items():
        desk = DeskOfDay(
            booking_id=booking.id,
            space_id=space.id,
            space_name=space.name,
            floor_id=space.floor_id,
            zone=space.zone,
        )
        result[key] = Effective("site", booking.site_id, "booking", desk)
    return result


def read_week(session: Session, user_id: int, week: date) -> Week:
    """The person's plan from Monday to Sunday of ``week``."""
    days = week_days(week)
    places = effective(session, [user_id], days[0], days[-1])
    sites = {s.id: s for s in session.scalars(select(Site))}
    out: list[PlanDay] = []
    for day in days:
        eff = places.get((user_id, day))
        site = sites.get(eff.site_id) if eff and eff.site_id else None
        out.append(
            PlanDay(
                day=day,
                place=eff.place if eff else None,  # type: ignore[arg-type]
                site_id=site.id if site else None,
                site_name=site.name if site else None,
                site_kind=site.kind if site else None,
                source=eff.source if eff else None,
                desk=eff.desk if eff else None,
            )
        )
    return Week(week=days[0], days=out)


def _put(
    session: Session, user_id: int, day: date, place: str, site_id: str | None, source: str
) -> None:
    row = session.get(WorkPlan, (user_id, day))
    if row is None:
        session.add(
            WorkPlan(
                user_id=user_id, day=day, place=place, site_id=site_id, source=source,
                updated_at=utcnow(),
            )
        )  # fmt: skip
        return
    row.place, row.site_id, row.source, row.updated_at = place, site_id, source, utcnow()


def set_day(session: Session, user_id: int, day: date, choice: PlaceChoice) -> None:
    """Plan one day at a site or at home."""
    check_day(day)
    check_site(session, choice.site_id)
    _put(session, user_id, day, choice.place, choice.site_id, "manual")
    session.commit()


def clear_day(session: Session, user_id: int, day: date) -> None:
    """Plan nothing for a day (a desk booking still shows until it is cancelled)."""
    check_day(day)
    session.execute(delete(WorkPlan).where(WorkPlan.user_id == user_id, WorkPlan.day == day))
    session.commit()


def copy_last_week(session: Session, user_id: int, week: date, *, overwrite: bool) -> int:
    """Copy the week before ``week`` into it; returns how many days were written."""
    days = week_days(week)
    check_day(days[0])
    check_day(days[-1])
    before = effective(
        session, [user_id], days[0] - timedelta(days=7), days[-1] - timedelta(days=7)
    )
    now = effective(session, [user_id], days[0], days[-1])
    written = 0
    for day in days:
        last = before.get((user_id, day - timedelta(days=7)))
        if last is None or (not overwrite and (user_id, day) in now):
            continue
        _put(session, user_id, day, last.place, last.site_id, "copy")
        written += 1
    session.commit()
    return written


def read_pattern(session: Session, user_id: int) -> Pattern:
    """The person's default week."""
    rows = session.scalars(
        select(PlanPattern).where(PlanPattern.user_id == user_id).order_by(PlanPattern.weekday)
    )
    return Pattern(
        days=[
            PatternDay(weekday=r.weekday, place=r.place, site_id=r.site_id)  # type: ignore[arg-type]
            for r in rows
        ]
    )


def set_pattern(session: Session, user_id: int, pattern: Pattern) -> Pattern:
    """Replace the person's default week."""
    for day in pattern.days:
        check_site(session, day.site_id)
    session.execute(delete(PlanPattern).where(PlanPattern.user_id == user_id))
    for day in pattern.days:
        session.add(
            PlanPattern(
                user_id=user_id, weekday=day.weekday, place=day.place, site_id=day.site_id,
                updated_at=utcnow(),
            )
        )  # fmt: skip
    session.commit()
    return read_pattern(session, user_id)


def apply_pattern(session: Session, user_id: int, week: date, *, overwrite: bool) -> int:
    """Fill ``week`` from the default week; returns how many days were written."""
    days = week_days(week)
    check_day(days[0])
    check_day(days[-1])
    pattern = {d.weekday: d for d in read_pattern(session, user_id).days}
    now = effective(session, [user_id], days[0], days[-1])
    written = 0
    for day in days:
        chosen = pattern.get(day.weekday())
        if chosen is None or (not overwrite and (user_id, day) in now):
            continue
        _put(session, user_id, day, chosen.place, chosen.site_id, "pattern")
        written += 1
    session.commit()
    return written
