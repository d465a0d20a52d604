"""Manual check-in: in the app, or with the QR code on the desk.

This is also the fallback when a space's sensor is offline or stale: such a
booking is never released by the sensor and waits for a check-in by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.auth.models import ApiToken
from backend.bookings.models import ACTIVE, Booking
from backend.bookings.service import actor_of, get_booking, transition
from backend.errors import Conflict, NotFound

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
        raise NotFound(f"you have no booking of {space_id!r} now", reason="booking_not_found")
    return check_in(session, token, booking.id, "qr", now)
