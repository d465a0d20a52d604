"""Room door panels: today's schedule of one room (never who booked) and "book now".

A door panel holds a token of role ``panel`` bound to one room (its name is
``panel:<space id>``, set only here). It reads like a signage screen and may do a few
things more, in *its own* room only: book it from now for 15, 30 or 60 minutes, and
check in, end early or extend the meeting running there (``panel_actions``). The booking is
owned by the panel's own account, so no person is linked to it, and the database's
overlap rule refuses it when the room is taken, like every other booking.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.auth import service as auth_service
from backend.auth.models import ApiToken
from backend.bookings import panel_actions as actions
from backend.bookings import policy as policies
from backend.bookings import service as bookings
from backend.bookings import times
from backend.bookings.models import ACTIVE, Booking
from backend.bookings.policy import utcnow
from backend.bookings.schemas import BookingCreate
from backend.dependencies import AdminDep, ReaderDep, SessionDep
from backend.errors import Forbidden, InvalidInput, NotFound
from backend.people import service as people
from backend.people.models import User
from backend.spaces.models import Site, Space

router = APIRouter(prefix="/api/v1", tags=["door panels"])

#: The lengths a door panel offers, in minutes.
DURATIONS = (15, 30, 60)


def panel_name(space_id: str) -> str:
    """Return the token (and account) name that binds a panel to its room."""
    return f"panel:{space_id}"


def may_book(token: ApiToken, space_id: str) -> bool:
    """Return True when ``token`` is the door panel of ``space_id``."""
    return token.role == "panel" and token.name == panel_name(space_id)


class Slot(BaseModel):
    """One booking of the room today: when, never by whom or about what."""

    start: datetime
    end: datetime
    status: Literal["booked", "checked_in"]


class RoomToday(BaseModel):
    """What a door panel shows: the room, today's opening hours and its bookings."""

    space_id: str
    site_id: str
    floor_id: str
    name: str
    kind: str
    capacity: int
    timezone: str
    day: str
    opens: datetime | None
    closes: datetime | None
    bookings: list[Slot]
    #: True when the caller is this room's door panel (shows the book-now buttons).
    can_book: bool
    durations: list[int]


class BookNow(BaseModel):
    """Body of ``POST /spaces/{id}/book-now``."""

    model_config = ConfigDict(extra="forbid")

    minutes: Literal[15, 30, 60]


class BookedNow(BaseModel):
    """The panel's booking: only the times, as the panel shows them."""

    id: int
    space_id: str
    start: datetime
    end: datetime


class Extend(BaseModel):
    """Body of ``POST /spaces/{id}/panel/extend``."""

    model_config = ConfigDict(extra="forbid")

    minutes: Literal[15, 30]


class PanelMeeting(BaseModel):
    """The room's meeting after a panel action: times and state, never who."""

    space_id: str
    start: datetime
    end: datetime
    status: Literal["booked", "checked_in", "released"]

    @classmethod
    def of(cls, booking: Booking) -> PanelMeeting:
        """Only the fields a door may show."""
        return cls(
            space_id=booking.space_id,
            start=booking.start_at,
            end=booking.end_at,
            status=booking.status,  # type: ignore[arg-type]
        )


class PanelToken(BaseModel):
    """A new door-panel token (shown once)."""

    space_id: str
    token: str


def room_of(session: Session, space_id: str) -> tuple[Space, Site]:
    """Return the room and its site; 404 for no such space, 422 for a desk."""
    space = session.get(Space, space_id)
    if space is None:
        raise NotFound(f"space {space_id!r} does not exist", reason="space_not_found")
    if space.kind == "desk":
        raise InvalidInput("door panels are for rooms, not desks", reason="not_a_room")
    site = session.get(Site, space.site_id)
    assert site is not None
    return space, site


def room_today(session: Session, token: ApiToken, space_id: str, now: datetime) -> RoomToday:
    """Return the room's bookings on the site's current local day."""
    space, site = room_of(session, space_id)
    tz = times.zone(site.timezone)
    day = times.local_day(now, tz)
    span = policies.open_time(session, site, day)
    begin = times.localize(day, datetime.min.time(), tz)
    end = begin + timedelta(days=1)
    rows = session.scalars(
        select(Booking)
        .where(
            Booking.space_id == space.id,
            Booking.status.in_(ACTIVE),
            Booking.start_at < end,
            Booking.end_at > begin,
        )
        .order_by(Booking.start_at)
    ).all()
    return RoomToday(
        space_id=space.id,
        site_id=site.id,
        floor_id=space.floor_id,
        name=space.name,
        kind=space.kind,
        capacity=space.capacity,
        timezone=site.timezone,
        day=day.isoformat(),
        opens=span.opens,
        closes=span.closes,
        bookings=[Slot(start=b.start_at, end=b.end_at, status=b.status) for b in rows],  # type: ignore[arg-type]
        can_book=may_book(token, space.id),
        durations=list(DURATIONS),
    )


def book_now(
    session: Session, token: ApiToken, space_id: str, minutes: int, now: datetime
) -> Booking:
    """Book the panel's room from now (to the minute) for ``minutes``.

    Raises:
        Forbidden: not this room's panel. Conflict: taken. InvalidInput: closed.
    """
    room_of(session, space_id)
    if not may_book(token, space_id):
        raise Forbidden(
            "only this room's door panel may book it from here", reason="not_this_panel"
        )
    start = now.replace(second=0, microsecond=0)
    req = BookingCreate(
        space_id=space_id, start=start, end=start + timedelta(minutes=minutes), title=None
    )
    return bookings.create_booking(session, token, req, now)


def create_panel(session: Session, space_id: str, actor: str) -> str:
    """Create (or reuse) the room's panel account and issue it a new token."""
    room_of(session, space_id)
    name = panel_name(space_id)
    user = session.scalar(select(User).where(User.username == name))
    if user is None:
        user = people.create_user(
            session, username=name, display_name=f"Deurpaneel {space_id}", role="panel",
            actor=actor,
        )  # fmt: skip
    return auth_service.create_token(session, "panel", name, user_id=user.id)


@router.get("/spaces/{space_id}/today", response_model=RoomToday)
def read_room_today(space_id: str, session: SessionDep, token: ReaderDep) -> RoomToday:
    """A room's bookings today (times only) for its door panel and the signage."""
    return room_today(session, token, space_id, utcnow())


@router.post("/spaces/{space_id}/book-now", response_model=BookedNow, status_code=201)
def create_booking_now(
    space_id: str, body: BookNow, session: SessionDep, token: ReaderDep
) -> BookedNow:
    """Book the room from now for 15, 30 or 60 minutes; only its own door panel may."""
    booking = book_now(session, token, space_id, body.minutes, utcnow())
    return BookedNow(
        id=booking.id, space_id=booking.space_id, start=booking.start_at, end=booking.end_at
    )


@router.post("/spaces/{space_id}/panel/check-in", response_model=PanelMeeting)
def panel_check_in(space_id: str, session: SessionDep, token: ReaderDep) -> PanelMeeting:
    """Check in the meeting in this room (its own door panel only)."""
    booking = actions.check_in(session, token, space_id, utcnow())
    return PanelMeeting.of(booking)


@router.post("/spaces/{space_id}/panel/end", response_model=PanelMeeting)
def panel_end_early(space_id: str, session: SessionDep, token: ReaderDep) -> PanelMeeting:
    """End the running meeting now, so the room is free (its own door panel only)."""
    booking = actions.end_early(session, token, space_id, utcnow())
    return PanelMeeting.of(booking)


@router.post("/spaces/{space_id}/panel/extend", response_model=PanelMeeting)
def panel_extend(
    space_id: str, body: Extend, session: SessionDep, token: ReaderDep
) -> PanelMeeting:
    """Extend the running meeting by 15 or 30 minutes when the room is free after it."""
    booking = actions.extend(session, token, space_id, body.minutes, utcnow())
    return PanelMeeting.of(booking)


@router.post("/spaces/{space_id}/panel-token", response_model=PanelToken, status_code=201)
def create_panel_token(space_id: str, session: SessionDep, token: AdminDep) -> PanelToken:
    """Issue a door-panel token for a room (admin); it reads, and books only this room."""
    raw = create_panel(session, space_id, actor=bookings.actor_of(token))
    return PanelToken(space_id=space_id, token=raw)
