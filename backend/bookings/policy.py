"""Per-site booking rules, opening hours and holidays: read, change, and check a booking."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from backend.bookings import times
from backend.bookings.models import ACTIVE, Booking, Holiday, OpeningHours, SitePolicy
from backend.bookings.schemas import HolidayPublic, OpeningDay, PolicyPublic
from backend.clock import utcnow as utcnow  # the routers' name for the one clock
from backend.errors import Conflict, InvalidInput
from backend.people import audit


class SiteLike(Protocol):
    """What the checks read of a site: a ``Site`` row, or the booking's prefetched columns."""

    @property
    def id(self) -> str:
        """The site's id (the opening-time memo's key)."""

    @property
    def timezone(self) -> str:
        """The site's time zone, in which its days and hours are counted."""


class SpaceLike(Protocol):
    """What the checks read of a space."""

    @property
    def kind(self) -> str:
        """``desk`` or a room kind: rooms are booked by the minute within opening hours."""


class RulesLike(Protocol):
    """What the checks read of a site's rules (a ``SitePolicy`` row or its defaults)."""

    @property
    def advance_days(self) -> int:
        """How many days ahead bookings open."""

    @property
    def max_minutes(self) -> int:
        """The longest room booking, in minutes."""


#: A booking may start this much in the past (clock skew, "book now" a minute late).
PAST_SLACK = timedelta(minutes=5)


def get_policy(session: Session, site_id: str) -> SitePolicy:
    """Return the site's policy row, or an unsaved one holding the defaults."""
    policy = session.get(SitePolicy, site_id)
    if policy is None:
        defaults = PolicyPublic()
        policy = SitePolicy(site_id=site_id, **defaults.model_dump())
    return policy


def set_policy(session: Session, site_id: str, change: PolicyPublic, actor: str) -> SitePolicy:
    """Store a site's policy and audit the change."""
    policy = session.get(SitePolicy, site_id) or SitePolicy(site_id=site_id)
    for name, value in change.model_dump().items():
        setattr(policy, name, value)
    session.add(policy)
    audit.record(session, actor, "policy.update", "site", site_id, **change.model_dump())
    session.commit()
    return policy


def opening_table(session: Session, site_id: str) -> dict[int, tuple[time, time]] | None:
    """Return weekday -> (opens, closes), or None when the site uses the defaults."""
    rows = session.scalars(select(OpeningHours).where(OpeningHours.site_id == site_id)).all()
    return {r.weekday: (r.opens, r.closes) for r in rows} or None


def set_opening_hours(session: Session, site_id: str, days: list[OpeningDay], actor: str) -> None:
    """Replace a site's opening hours (weekdays not listed are closed).

    Raises:
        InvalidInput: a weekday is listed twice (one row per weekday is stored).
    """
    weekdays = [day.weekday for day in days]
    if len(set(weekdays)) != len(weekdays):
        raise InvalidInput("each weekday may be listed once", reason="repeated_weekday")
    session.execute(delete(OpeningHours).where(OpeningHours.site_id == site_id))
    for day in days:
        session.add(
            OpeningHours(site_id=site_id, weekday=day.weekday, opens=day.opens, closes=day.closes)
        )
    audit.record(session, actor, "opening_hours.update", "site", site_id, days=len(days))
    session.commit()


def holidays(session: Session, site_id: str) -> dict[date, str]:
    """Return the site's closed days."""
    rows = session.scalars(select(Holiday).where(Holiday.site_id == site_id)).all()
    return {r.day: r.name for r in rows}


def add_holiday(session: Session, site_id: str, holiday: HolidayPublic, actor: str) -> None:
    """Add (or rename) a closed day."""
    session.merge(Holiday(site_id=site_id, day=holiday.day, name=holiday.name))
    audit.record(session, actor, "holiday.add", "site", site_id, day=holiday.day.isoformat())
    session.commit()


#: ``session.info`` key of a per-booking memo of ``open_time`` (set by the booking service).
OPEN_TIME_MEMO = "werkplek.open_time"


def open_time_columns(site_id: Any, day: Any, weekday: Any = None) -> tuple[Any, ...]:
    """Scalar subqueries telling a day's opening time: own hours?, opens, closes, holiday.

    ``site_id`` is a value or a column (the booking's prefetch correlates on the space's
    site). ``day`` is a date, or a bound parameter together with ``weekday`` (a statement
    built once and run with each day's values). ``span_of`` turns the row into the answer.
    """
    hours_of = select(OpeningHours).where(OpeningHours.site_id == site_id)
    weekday = hours_of.where(
        OpeningHours.weekday == (day.weekday() if weekday is None else weekday)
    )
    # A scalar subquery, not a count over a derived table: a derived table does not
    # correlate, so with a column for ``site_id`` it counted every site's rows joined
    # to every space (a site without own hours then read as closed, and each booking
    # scanned all spaces).
    own = select(func.count()).select_from(OpeningHours).where(OpeningHours.site_id == site_id)
    return (
        own.scalar_subquery(),
        weekday.with_only_columns(OpeningHours.opens).scalar_subquery(),
        weekday.with_only_columns(OpeningHours.closes).scalar_subquery(),
        select(Holiday.name)
        .where(Holiday.site_id == site_id, Holiday.day == day)
        .scalar_subquery(),
    )


def span_of(site: SiteLike, day: date, row: Sequence[Any]) -> times.OpenTime:
    """The opening time of a day from the values of ``open_time_columns``."""
    own, opens, closes, holiday = row
    table = None if not own else ({day.weekday(): (opens, closes)} if opens is not None else {})
    return times.open_time(day, times.zone(site.timezone), table, {day: holiday} if holiday else {})


def remember_open_time(session: Session, site: SiteLike, day: date, span: times.OpenTime) -> None:
    """Keep an opening time read along with other rows for this booking (``OPEN_TIME_MEMO``)."""
    memo = session.info.get(OPEN_TIME_MEMO)
    if memo is not None:
        memo[(site.id, day)] = span


def open_time(session: Session, site: SiteLike, day: date) -> times.OpenTime:
    """Return when the site is open on a local day.

    One round trip: whether the site has its own hours, that weekday's hours and
    the day's holiday (a booking is on the hot path of the Monday rush). Within a
    booking the answer is memoised (``OPEN_TIME_MEMO``): it is asked twice per day part,
    and a day-part booking reads it with the space in its first query.
    """
    memo = session.info.get(OPEN_TIME_MEMO)
    if memo is not None and (site.id, day) in memo:
        span: times.OpenTime = memo[(site.id, day)]
        return span
    span = span_of(site, day, session.execute(select(*open_time_columns(site.id, day))).one())
    remember_open_time(session, site, day, span)
    return span


def check_times(
    session: Session,
    site: SiteLike,
    space: SpaceLike,
    policy: RulesLike,
    start: datetime,
    end: datetime,
    now: datetime,
) -> date:
    """Apply the site's rules to a UTC time range; return the local day of the booking.

    Raises:
        InvalidInput: with a reason per broken rule.
    """
    tz: ZoneInfo = times.zone(site.timezone)
    if end <= start:
        raise InvalidInput("the end must be after the start", reason="bad_time_range")
    if start < now - PAST_SLACK:
        raise InvalidInput("a booking cannot start in the past", reason="in_the_past")
    if start > now + timedelta(days=policy.advance_days):
        raise InvalidInput(
            f"bookings open {policy.advance_days} days ahead at this site", reason="too_far_ahead"
        )
    # Desks are booked by the day part, which opening hours bound; rooms by the minute.
    if space.kind != "desk" and times.minutes(start, end) > policy.max_minutes:
        raise InvalidInput(
            f"a room booking lasts at most {policy.max_minutes} minutes here", reason="too_long"
        )
    day = times.local_day(start, tz)
    span = open_time(session, site, day)
    if not span.is_open:
        raise InvalidInput(
            f"the site is closed on {day.isoformat()} ({span.closed_reason})", reason="site_closed"
        )
    if times.local_day(end - timedelta(microseconds=1), tz) != day:
        raise InvalidInput("a booking must end on the day it starts", reason="spans_days")
    assert span.opens is not None and span.closes is not None
    if space.kind != "desk" and (start < span.opens or end > span.closes):
        opens, closes = span.opens.astimezone(tz), span.closes.astimezone(tz)
        raise InvalidInput(
            f"rooms can be booked within opening hours only ({opens:%H:%M}-{closes:%H:%M})",
            reason="outside_opening_hours",
        )
    return day


#: Guest desks one employee may host per local day. Facility and admin, who book for
#: visitors as their job, are not limited. Without it an employee could hold every desk
#: of a day by naming guests, since the one-desk-per-day rule does not count guests.
GUEST_DESKS_PER_DAY = 2
#: First key of the advisory lock that queues one host's guest bookings (second: the host).
_GUEST_LOCK = text("SELECT pg_advisory_xact_lock(:cls, :host)")
_GUEST_LOCK_CLASS = 0x67756573  # "gues"


def check_guest_desks(session: Session, host_id: int, day: date) -> None:
    """Refuse a guest desk beyond ``GUEST_DESKS_PER_DAY`` for one host on one day.

    Call inside the booking's transaction: on PostgreSQL a per-host advisory lock makes
    parallel requests count one after another (SQLite has one writer anyway).

    Raises:
        Conflict: the host already has that many guest desks that day.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_GUEST_LOCK, {"cls": _GUEST_LOCK_CLASS, "host": host_id})
    held = session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(
            Booking.user_id == host_id,
            Booking.local_day == day,
            Booking.space_kind == "desk",
            Booking.guest_name.is_not(None),
            Booking.status.in_(ACTIVE),
        )
    )
    if (held or 0) >= GUEST_DESKS_PER_DAY:
        raise Conflict(
            f"you host {GUEST_DESKS_PER_DAY} guest desks that day already; facility can book more",
            reason="guest_desk_limit",
        )
