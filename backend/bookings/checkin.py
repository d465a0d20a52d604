"""Manual check-in: in the app, or with the QR code on the desk.

Scanning the QR code of a free desk without a booking books it for the rest of the
day and checks in at once (a walk-up), under the same rules as any booking.

This is also the fallback when a space's sensor is offline or stale: such a
booking is never released by the sensor and waits for a check-in by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.auth.models import ApiToken
from backend.bookings import policy as policies
from backend.bookings import times
from backend.bookings.models import ACTIVE, Booking
from backend.bookings.schemas import BookingCreate
from backend.bookings.service import actor_of, create_booking, get_booking, transition
from backend.errors import Conflict, NotFound
from backend.spaces.models import Site, Space

#: A manual check-in is accepted this long before the booking starts.
EARLY_CHECK_IN = timedelta(minutes=10)


def check_in(
    session: Session, token: ApiToken, booking_id: int, method: str, now: datetime
) -> Booking:
    """Check in by hand (app or the QR code on the desk) within the booking window."""
    booking = get_booking(session, token, booking_id)
    if booking.status == "checked_in":
        return booking
    if not booking.start_at - EARLY_CHECK_IN <= now < booking.end_at:
        raise Conflict("check-in is possible only during the booking", reason="outside_window")
    changed = transition(
        session,
        booking.id,
        ("booked",),
        actor=actor_of(token),
        actor_user_id=token.user_id,
        action="booking.check_in",
        at=now,
        status="checked_in",
        checked_in_at=now,
        check_in_method=method,
    )
    if not changed:
        raise Conflict(f"booking {booking_id} is not active", reason="not_active")
    session.refresh(booking)
    return booking


def check_in_space(session: Session, token: ApiToken, space_id: str, now: datetime) -> Booking:
    """Check in the caller's current booking of a space (what the desk's QR code opens)."""
    booking = session.scalar(
        select(Booking).where(
            Booking.space_id == space_id,
            Booking.user_id == token.user_id,
            Booking.status.in_(ACTIVE),
            Booking.start_at <= now + EARLY_CHECK_IN,
            Booking.end_at > now,
        )
    )
    if booking is None:
        booking = _walk_up(session, token, space_id, now)
    return check_in(session, token, booking.id, "qr", now)


def _walk_up(session: Session, token: ApiToken, space_id: str, now: datetime) -> Booking:
    """Book a free desk for the rest of today, so one scan both books and checks in.

    A person standing at a free desk should not have to go back to the app to book
    it first. Only desks: a room's QR code never books the room for a whole day. The
    usual rules apply (opening hours, closed days, one desk per day, the overlap
    constraint), because the booking goes through ``create_booking`` like any other.

    Raises:
        NotFound: unknown space, or a room without a booking of the caller now.
        Conflict: the caller has another desk today (``other_booking_today``), or the
            desk is taken (``space_taken``).
    """
    space = session.get(Space, space_id)
    if space is None:
        raise NotFound(f"space {space_id!r} does not exist", reason="space_not_found")
    if space.kind != "desk":
        raise NotFound(f"you have no booking of {space_id!r} now", reason="booking_not_found")
    site = session.get(Site, space.site_id)
    assert site is not None  # a space's site is a foreign key
    tz = times.zone(site.timezone)
    today = now.astimezone(tz).date()
    other = session.scalar(
        select(Booking.space_id).where(
            Booking.user_id == token.user_id,
            Booking.guest_name.is_(None),
            Booking.space_kind == "desk",
            Booking.status.in_(ACTIVE),
            Booking.local_day == today,
        )
    )
    if other is not None:
        raise Conflict(
            f"you have booked {other!r} today; check in there or cancel it first",
            reason="other_booking_today",
        )
    opens, _closes = times.day_part(policies.open_time(session, site, today), "day", tz)
    if now < opens - EARLY_CHECK_IN:
        # Booking now would make a booking one cannot check in to yet: refuse it whole.
        raise Conflict(
            f"the site opens at {opens.astimezone(tz):%H:%M}; scan again then",
            reason="not_open_yet",
        )
    request = BookingCreate(space_id=space.id, date=today, part="day")
    return create_booking(session, token, request, now)
