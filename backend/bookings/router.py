"""Booking endpoints: book, list, cancel, check in, calendars."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.auth import feed as feed_tokens
from backend.availability.sites import check_space_bookable
from backend.bookings import calendar, checkin
from backend.bookings import service as bookings
from backend.bookings.gate import BookingGate
from backend.bookings.models import ACTIVE, Booking
from backend.bookings.policy import utcnow
from backend.bookings.schemas import BookingCreate, BookingPage, BookingPublic, CheckIn
from backend.dependencies import BookerDep, ReaderDep, SessionDep, busy_as_503, get_runtime
from backend.errors import Forbidden, NotFound
from backend.spaces.models import Space
from backend.types import MAX_ROW_ID

#: A booking id in the path; larger numbers than the column holds are a 422, not a 500.
BookingId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]

router = APIRouter(prefix="/api/v1", tags=["bookings"])
ICS = "text/calendar; charset=utf-8"


@router.post("/bookings", response_model=BookingPublic, status_code=201)
async def create_booking(request: Request, body: BookingCreate, token: BookerDep) -> BookingPublic:
    """Book a desk or room by day part or time range; 409 when it is taken."""
    runtime = get_runtime(request)

    def book() -> BookingPublic:
        # A satellite site cut off from the centre: 503 site_offline (docs/operations.md).
        check_space_bookable(runtime.hub, body.space_id)
        # The session lives in this worker thread only, not in a request dependency:
        # the generator dependency's setup and teardown on the loop cost more CPU than
        # the rest of the route's dependencies together (docs/operations.md, fifth round).
        with busy_as_503(), runtime.session_factory() as session:
            row = bookings.book(session, token, body, utcnow())
        return BookingPublic.model_validate(row)

    # A few bookings at once, the rest in order on the loop (backend/bookings/gate.py).
    gate: BookingGate | None = getattr(request.app.state, "booking_gate", None)
    if gate is None:  # an app made without create_app (a test's own)
        gate = request.app.state.booking_gate = BookingGate()
    return await gate.run(book)


@router.get("/bookings", response_model=BookingPage)
def read_bookings(
    session: SessionDep,
    token: BookerDep,
    user_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    space_id: str | None = None,
    active: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> BookingPage:
    """List bookings: an employee's own; facility and admin see everyone's."""
    items, total = bookings.list_bookings(
        session,
        token,
        user_id=user_id,
        space_id=space_id,
        active_only=active,
        limit=limit,
        offset=offset,
    )
    return BookingPage(
        items=[BookingPublic.model_validate(b) for b in items],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/bookings/{booking_id}", response_model=BookingPublic)
def read_booking(booking_id: BookingId, session: SessionDep, token: BookerDep) -> BookingPublic:
    """Return one booking (404 for someone else's)."""
    return BookingPublic.model_validate(bookings.get_booking(session, token, booking_id))


@router.delete("/bookings/{booking_id}", response_model=BookingPublic)
def cancel_booking(booking_id: BookingId, session: SessionDep, token: BookerDep) -> BookingPublic:
    """Cancel a booking; the space is free again at once."""
    booking = bookings.cancel_booking(session, token, booking_id, utcnow())
    return BookingPublic.model_validate(booking)


@router.post("/bookings/{booking_id}/check-in", response_model=BookingPublic)
def check_in(
    booking_id: BookingId,
    session: SessionDep,
    token: BookerDep,
    body: CheckIn,
) -> BookingPublic:
    """Check in by hand (app); needed when the space's sensor is offline."""
    booking = checkin.check_in(session, token, booking_id, body.method, utcnow())
    return BookingPublic.model_validate(booking)


@router.post("/spaces/{space_id}/check-in", response_model=BookingPublic)
def check_in_space(space_id: str, session: SessionDep, token: BookerDep) -> BookingPublic:
    """Check in by a space's QR code; a free desk is booked for the rest of today first.

    A free desk (and no other desk of the caller that day) is booked and checked in at once.
    """
    booking = checkin.check_in_space(session, token, space_id, utcnow())
    return BookingPublic.model_validate(booking)


def _space_name(session: SessionDep, space_id: str) -> str:
    space = session.get(Space, space_id)
    return space.name if space is not None else space_id


@router.get("/bookings/{booking_id}/calendar.ics", response_class=Response)
def read_confirmation(booking_id: BookingId, session: SessionDep, token: BookerDep) -> Response:
    """The booking as an iCalendar file a calendar client imports."""
    booking = bookings.get_booking(session, token, booking_id)
    body = calendar.confirmation(booking, _space_name(session, booking.space_id), utcnow())
    return Response(body, media_type=ICS)


def _person_feed(session: Session, user_id: int) -> Response:
    rows = session.scalars(
        select(Booking).where(Booking.user_id == user_id).order_by(Booking.start_at)
    ).all()
    names = {s.id: s.name for s in session.scalars(select(Space))}
    items = [(b, names.get(b.space_id, b.space_id)) for b in rows]
    return Response(calendar.feed("Werkplek", items, private=True, stamp=utcnow()), media_type=ICS)


@router.get("/me/calendar.ics", response_class=Response)
def read_my_feed(session: SessionDep, token: BookerDep) -> Response:
    """The caller's bookings as one ``.ics`` download (``Authorization: Bearer`` header).

    To subscribe from a calendar program, which cannot send that header, ask
    ``POST /api/v1/me/calendar-feed`` for a feed URL: never put a login token in a URL.
    """
    if token.user_id is None:
        raise NotFound("this token belongs to no person", reason="no_user")
    return _person_feed(session, token.user_id)


class CalendarFeedPublic(BaseModel):
    """A subscribe URL for the caller's calendar feed (shown once; store it in the calendar)."""

    url: str
    webcal_url: str


@router.post("/me/calendar-feed", response_model=CalendarFeedPublic, status_code=201)
def create_my_feed_url(
    request: Request, session: SessionDep, token: BookerDep
) -> CalendarFeedPublic:
    """Make a subscribe URL for the caller's bookings; the previous one stops working.

    The URL holds a feed token: it opens this person's ``.ics`` feed and nothing
    else, is stored only as a hash, and is revoked by making a new one or by
    ``DELETE /api/v1/me/calendar-feed``.
    """
    if token.user_id is None:
        raise NotFound("this token belongs to no person", reason="no_user")
    secret = feed_tokens.issue(session, token.user_id, utcnow())
    url = str(request.url_for("read_subscribed_feed", feed_token=secret))
    return CalendarFeedPublic(url=url, webcal_url="webcal://" + url.split("://", 1)[1])


@router.delete("/me/calendar-feed", status_code=204, response_class=Response)
def revoke_my_feed_url(session: SessionDep, token: BookerDep) -> Response:
    """Stop the caller's subscribe URL from working."""
    if token.user_id is None:
        raise NotFound("this token belongs to no person", reason="no_user")
    feed_tokens.revoke(session, token.user_id, utcnow())
    return Response(status_code=204)


@router.get("/calendar/{feed_token}.ics", response_class=Response)
def read_subscribed_feed(feed_token: str, session: SessionDep) -> Response:
    """A person's bookings for a calendar subscription; the feed token is the only key.

    404 for an unknown or revoked feed token, as for one that never existed.
    """
    return _person_feed(session, feed_tokens.owner(session, feed_token))


@router.get("/spaces/{space_id}/calendar.ics", response_class=Response)
def read_space_feed(space_id: str, session: SessionDep, token: ReaderDep) -> Response:
    """A room's bookings as a calendar feed: when it is taken, never by whom."""
    space = session.get(Space, space_id)
    if space is None:
        raise NotFound(f"space {space_id!r} does not exist", reason="space_not_found")
    if space.kind == "desk" and token.role not in ("facility", "admin"):
        raise Forbidden("desk calendars are for facility management", reason="role_not_allowed")
    rows = session.scalars(
        select(Booking)
        .where(Booking.space_id == space_id, Booking.status.in_(ACTIVE))
        .order_by(Booking.start_at)
    ).all()
    body = calendar.feed(space.name, [(b, space.name) for b in rows], private=False, stamp=utcnow())
    return Response(body, media_type=ICS)
