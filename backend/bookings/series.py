"""Recurring room bookings: the same wall-clock time every N weeks, with exceptions.

Each occurrence is an ordinary booking (same rules, same no-overlap constraint)
carrying a ``series_id``. Wall-clock time is kept across daylight-saving changes:
a 10:00 meeting stays at 10:00 local, so its UTC time moves by an hour. An
occurrence that cannot be booked (taken, closed day) is skipped and reported;
the others are booked. Cancel one occurrence as any booking (an exception), or
the rest of the series at once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import datetime, timedelta

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.auth.models import ApiToken
from backend.availability.sites import check_space_bookable
from backend.bookings import service
from backend.bookings.models import ACTIVE, Booking
from backend.bookings.policy import utcnow
from backend.bookings.schemas import BookingCreate, BookingPublic
from backend.dependencies import BookerDep, RuntimeDep, SessionDep
from backend.errors import DomainError, InvalidInput, NotFound
from backend.spaces.models import Space
from backend.types import MAX_ROW_ID

router = APIRouter(prefix="/api/v1/booking-series", tags=["bookings"])


class SeriesCreate(BaseModel):
    """Body of ``POST /api/v1/booking-series``: a room, local times, a weekly rhythm."""

    model_config = ConfigDict(extra="forbid")

    space_id: str = Field(min_length=1, max_length=63)
    first_date: dt.date
    start_time: dt.time
    end_time: dt.time
    every_weeks: int = Field(default=1, ge=1, le=4)
    count: int = Field(ge=1, le=52)
    except_dates: list[dt.date] = Field(default_factory=list, max_length=52)
    title: str | None = Field(default=None, max_length=200)
    user_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)

    @model_validator(mode="after")
    def _order(self) -> SeriesCreate:
        if self.end_time <= self.start_time:
            raise ValueError("end_time must be after start_time")
        return self


class Skipped(BaseModel):
    """An occurrence that was not booked, and why."""

    date: dt.date
    reason: str
    detail: str


class SeriesResult(BaseModel):
    """What a series request booked and skipped."""

    series_id: str
    created: list[BookingPublic]
    skipped: list[Skipped]


def create_series(
    session: Session, token: ApiToken, req: SeriesCreate, now: datetime
) -> SeriesResult:
    """Book every occurrence that the rules and the calendar allow."""
    space = session.get(Space, req.space_id)
    if space is None:
        raise NotFound(f"space {req.space_id!r} does not exist", reason="space_not_found")
    if space.kind == "desk":
        raise InvalidInput("recurring bookings are for rooms", reason="series_for_rooms")
    series_id = uuid.uuid4().hex
    created: list[BookingPublic] = []
    skipped: list[Skipped] = []
    for k in range(req.count):
        day = req.first_date + timedelta(weeks=k * req.every_weeks)
        if day in req.except_dates:
            skipped.append(Skipped(date=day, reason="exception", detail="left out on request"))
            continue
        one = BookingCreate(
            space_id=space.id,
            start=datetime.combine(day, req.start_time),
            end=datetime.combine(day, req.end_time),
            title=req.title,
            user_id=req.user_id,
        )
        try:
            booking = service.create_booking(session, token, one, now, series_id=series_id)
        except DomainError as exc:
            if exc.status_code in (401, 403, 404):
                raise
            skipped.append(Skipped(date=day, reason=exc.reason, detail=exc.message))
            continue
        created.append(BookingPublic.model_validate(booking))
    return SeriesResult(series_id=series_id, created=created, skipped=skipped)


def cancel_series(session: Session, token: ApiToken, series_id: str, now: datetime) -> list[int]:
    """Cancel the occurrences of a series that have not ended yet; return their ids."""
    ids = session.scalars(
        select(Booking.id).where(
            Booking.series_id == series_id, Booking.status.in_(ACTIVE), Booking.end_at > now
        )
    ).all()
    if not ids:
        raise NotFound(f"series {series_id!r} has no active bookings", reason="series_not_found")
    return [service.cancel_booking(session, token, i, now).id for i in ids]


@router.post("", response_model=SeriesResult, status_code=201)
def post_series(
    body: SeriesCreate, session: SessionDep, runtime: RuntimeDep, token: BookerDep
) -> SeriesResult:
    """Book a room every N weeks; occurrences that cannot be booked are listed as skipped."""
    # A satellite site cut off from the centre: 503 site_offline for the whole series.
    check_space_bookable(runtime.hub, body.space_id)
    result = create_series(session, token, body, utcnow())
    return result


@router.delete("/{series_id}")
def delete_series(series_id: str, session: SessionDep, token: BookerDep) -> dict[str, list[int]]:
    """Cancel the rest of a series (someone else's answers 404)."""
    cancelled = cancel_series(session, token, series_id, utcnow())
    return {"cancelled": cancelled}
