"""Availability at a chosen time: "is this desk free on Thursday afternoon?".

The live view answers for now only. People plan ahead, so the app asks this
endpoint for any other day part (desks) or time range (rooms). A space is
``booked`` when an active booking overlaps the asked window, else ``free``; a
booking of the caller is ``mine``. Who booked is never part of the answer.

The window is checked with the same rules as a booking (opening hours, horizon,
the past, longest room booking), so the app can say what is wrong before anyone
presses "book". The spaces and their overlapping bookings come from one query
(an outer join) for the whole floor or site, never one per space.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from backend.availability.service import SpaceInfo, space_info
from backend.bookings import policy as policies
from backend.bookings import times
from backend.bookings.models import ACTIVE, Booking
from backend.errors import InvalidInput, NotFound
from backend.spaces.models import Floor, Site, Space

AtState = Literal["free", "booked", "mine"]


@dataclass(frozen=True, slots=True)
class Window:
    """The asked window in UTC, and how it was asked."""

    start: datetime
    end: datetime
    day: date
    part: str | None


@dataclass(frozen=True, slots=True)
class SpaceAt:
    """One space and whether it is free in the window."""

    info: SpaceInfo
    availability: AtState


def _site(session: Session, site_id: str, floor_id: str | None) -> Site:
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound(f"site {site_id!r} does not exist", reason="site_not_found")
    if floor_id is not None:
        floor = session.get(Floor, floor_id)
        if floor is None or floor.site_id != site_id:
            raise NotFound(
                f"floor {floor_id!r} does not exist on that site", reason="floor_not_found"
            )
    return site


def resolve_window(
    session: Session,
    site: Site,
    now: datetime,
    *,
    day: date | None,
    part: str | None,
    start: datetime | None,
    end: datetime | None,
) -> Window:
    """Turn a day part or a time range into a UTC window, applying the booking rules.

    Raises:
        InvalidInput: both or neither way given, a closed day, the past, beyond the
            booking horizon, a range that is reversed, spans days or is too long.
    """
    by_part = day is not None or part is not None
    by_range = start is not None or end is not None
    if by_part == by_range:
        raise InvalidInput(
            "give either date and part (desks), or start and end (rooms)", reason="bad_window"
        )
    tz = times.zone(site.timezone)
    rules = policies.get_policy(session, site.id)
    if by_part:
        if day is None or part is None:
            raise InvalidInput("a day part needs both date and part", reason="bad_window")
        span = policies.open_time(session, site, day)
        begin, finish = times.day_part(span, part, tz)
        if finish <= now:
            raise InvalidInput(f"the {part} of {day.isoformat()} is over", reason="in_the_past")
        if begin > now + timedelta(days=rules.advance_days):
            raise InvalidInput(
                f"bookings open {rules.advance_days} days ahead at this site",
                reason="too_far_ahead",
            )
        # The part that has begun counts from now, as a booking of it would.
        return Window(max(begin, now), finish, day, part)
    if start is None or end is None:
        raise InvalidInput("a time range needs both start and end", reason="bad_window")
    begin, finish = times.to_utc(start, tz), times.to_utc(end, tz)
    # The rules of a room booking; a room-kind stand-in, because ranges are for rooms.
    local = policies.check_times(session, site, Space(kind="room"), rules, begin, finish, now)
    return Window(begin, finish, local, None)


def spaces_at(
    session: Session,
    site_id: str,
    floor_id: str | None,
    window: Window,
    user_id: int | None,
) -> list[SpaceAt]:
    """Return every space of the site (or floor) with its state in the window; one query."""
    overlap = and_(
        Booking.space_id == Space.id,
        Booking.status.in_(ACTIVE),
        Booking.start_at < window.end,
        Booking.end_at > window.start,
    )
    query = (
        select(Space, Booking.user_id, Booking.id)
        .outerjoin(Booking, overlap)
        .where(Space.site_id == site_id)
        .order_by(Space.id)
    )
    if floor_id is not None:
        query = query.where(Space.floor_id == floor_id)
    found: dict[str, tuple[Space, AtState]] = {}
    for space, owner, booking_id in session.execute(query).all():
        state: AtState = "free"
        if booking_id is not None:
            state = "mine" if user_id is not None and owner == user_id else "booked"
        previous = found.get(space.id)
        # Someone else's booking outweighs one's own, and both outweigh free.
        if previous is None or _rank(state) > _rank(previous[1]):
            found[space.id] = (space, state)
    return [SpaceAt(space_info(s), state) for s, state in found.values()]


def _rank(state: AtState) -> int:
    return {"free": 0, "mine": 1, "booked": 2}[state]


def availability_at(
    session: Session,
    *,
    site_id: str,
    floor_id: str | None,
    user_id: int | None,
    now: datetime,
    day: date | None = None,
    part: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> tuple[Window, list[SpaceAt]]:
    """Validate the question and answer it for the site or one of its floors."""
    site = _site(session, site_id, floor_id)
    window = resolve_window(
        session, site, now.astimezone(UTC), day=day, part=part, start=start, end=end
    )
    return window, spaces_at(session, site_id, floor_id, window, user_id)
