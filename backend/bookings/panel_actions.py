"""What a door panel does with the meeting in its room: check in, end early, extend.

These are the usual door-panel actions, done by the people at the door, not by the
booker: so the panel acts on the room's *current* booking whoever made it, and only
with the token bound to that room (``panel.may_book``). Ending early frees the room at
once (the booking is released, as the no-show rule would); extending moves the end
later only when the room is free and the site open until then. The database's overlap
rule still guards the race with a booking made at the same moment.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.auth.models import ApiToken
from backend.bookings import policy as policies
from backend.bookings import times
from backend.bookings.checkin import EARLY_CHECK_IN
from backend.bookings.models import ACTIVE, Booking
from backend.bookings.service import actor_of, transition
from backend.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.spaces.models import Site, Space


def _own_room(session: Session, token: ApiToken, space_id: str) -> tuple[Space, Site]:
    # Imported here: panel.py imports this module for its endpoints.
    from backend.bookings.panel import may_book, room_of

    space, site = room_of(session, space_id)
    if not may_book(token, space_id):
        raise Forbidden(
            "only this room's door panel may change its meeting from here",
            reason="not_this_panel",
        )
    return space, site


def current_booking(session: Session, space_id: str, now: datetime, early: timedelta) -> Booking:
    """The room's active booking at ``now`` (or starting within ``early``), else 404."""
    booking = session.scalar(
        select(Booking)
        .where(
            Booking.space_id == space_id,
            Booking.status.in_(ACTIVE),
            Booking.start_at <= now + early,
            Booking.end_at > now,
        )
        .order_by(Booking.start_at)
        .limit(1)
    )
    if booking is None:
        raise NotFound(f"{space_id!r} has no meeting now", reason="no_current_booking")
    return booking


def check_in(session: Session, token: ApiToken, space_id: str, now: datetime) -> Booking:
    """Confirm that the room's meeting has started (up to 10 minutes early, like the app)."""
    _own_room(session, token, space_id)
    booking = current_booking(session, space_id, now, EARLY_CHECK_IN)
    if booking.status == "checked_in":
        return booking
    changed = transition(
        session, booking.id, ("booked",), actor=actor_of(token), action="booking.check_in",
        at=now, status="checked_in", checked_in_at=now, check_in_method="panel",
    )  # fmt: skip
    if not changed:
        raise Conflict("the meeting changed meanwhile; try again", reason="not_active")
    session.refresh(booking)
    return booking


def end_early(session: Session, token: ApiToken, space_id: str, now: datetime) -> Booking:
    """End the meeting that is running now: the room is free from this moment."""
    _own_room(session, token, space_id)
    booking = current_booking(session, space_id, now, timedelta(0))
    changed = transition(
        session, booking.id, ACTIVE, actor=actor_of(token), action="booking.end_early",
        at=now, status="released", ended_at=now, end_reason="ended_at_panel",
    )  # fmt: skip
    if not changed:
        raise Conflict("the meeting changed meanwhile; try again", reason="not_active")
    session.refresh(booking)
    return booking


def extend(
    session: Session, token: ApiToken, space_id: str, minutes: int, now: datetime
) -> Booking:
    """Move the running meeting's end ``minutes`` later, if the room and site allow it.

    Raises:
        Conflict ``space_taken``: the next booking starts before the new end.
        InvalidInput ``outside_opening_hours``: the site closes before the new end.
    """
    _space, site = _own_room(session, token, space_id)
    booking = current_booking(session, space_id, now, timedelta(0))
    new_end = booking.end_at + timedelta(minutes=minutes)
    following = session.scalar(
        select(Booking.start_at)
        .where(
            Booking.space_id == space_id,
            Booking.status.in_(ACTIVE),
            Booking.id != booking.id,
            Booking.start_at < new_end,
            Booking.end_at > booking.end_at,
        )
        .order_by(Booking.start_at)
        .limit(1)
    )
    if following is not None:
        raise Conflict(f"the next booking starts at {following.isoformat()}", reason="space_taken")
    tz = times.zone(site.timezone)
    span = policies.open_time(session, site, times.local_day(now, tz))
    if span.closes is None or new_end > span.closes:
        raise InvalidInput("the building closes before the new end", reason="outside_opening_hours")
    try:
        changed = transition(
            session, booking.id, ACTIVE, actor=actor_of(token), action="booking.extend",
            at=now, end_at=new_end,
        )  # fmt: skip
    except IntegrityError as exc:  # a booking made in the same moment
        session.rollback()
        raise Conflict("the room was booked meanwhile", reason="space_taken") from exc
    if not changed:
        raise Conflict("the meeting changed meanwhile; try again", reason="not_active")
    session.refresh(booking)
    return booking
