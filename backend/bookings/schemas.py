"""Pydantic schemas of the booking API."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend.types import MAX_ROW_ID

DayPart = Literal["morning", "afternoon", "day"]


class BookingCreate(BaseModel):
    """Body of ``POST /api/v1/bookings``: a day part on a date, or a time range.

    Times without a UTC offset are wall-clock times of the space's site.
    """

    model_config = ConfigDict(extra="forbid")

    space_id: str = Field(min_length=1, max_length=63)
    date: dt.date | None = None
    part: DayPart | None = None
    start: datetime | None = None
    end: datetime | None = None
    title: str | None = Field(default=None, max_length=200)
    guest_name: str | None = Field(default=None, min_length=1, max_length=200)
    #: Facility and admin may book for someone else.
    user_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)

    @model_validator(mode="after")
    def _one_way(self) -> BookingCreate:
        by_part = self.date is not None or self.part is not None
        by_range = self.start is not None or self.end is not None
        if by_part == by_range:
            raise ValueError("give either date and part, or start and end")
        if by_part and (self.date is None or self.part is None):
            raise ValueError("a day-part booking needs both date and part")
        if by_range and (self.start is None or self.end is None):
            raise ValueError("a time-range booking needs both start and end")
        return self


class BookingPublic(BaseModel):
    """A booking as its owner, facility and admin see it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    space_id: str
    site_id: str
    space_kind: str
    user_id: int | None
    guest_name: str | None
    title: str | None
    start_at: datetime
    end_at: datetime
    local_day: date
    status: Literal["booked", "checked_in", "released", "cancelled"]
    checked_in_at: datetime | None
    check_in_method: str | None
    sensor_fallback: bool
    ended_at: datetime | None
    end_reason: str | None
    series_id: str | None = None
    created_at: datetime


class BookingPage(BaseModel):
    """One page of bookings."""

    items: list[BookingPublic]
    total: int
    limit: int
    offset: int


class CheckIn(BaseModel):
    """Body of a manual check-in."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["app", "qr"] = "app"


class PolicyPublic(BaseModel):
    """The booking rules of a site (also the body of ``PUT``)."""

    model_config = ConfigDict(from_attributes=True, extra="forbid")

    advance_days: int = Field(default=14, ge=0, le=730)
    max_minutes: int = Field(default=600, ge=15, le=7 * 24 * 60)
    one_desk_per_day: bool = True
    desk_grace_s: int = Field(default=900, ge=1, le=4 * 3600)
    room_grace_s: int = Field(default=600, ge=1, le=4 * 3600)
    room_empty_release_s: int = Field(default=1200, ge=1, le=24 * 3600)


class OpeningDay(BaseModel):
    """Opening hours of one weekday (0 = Monday)."""

    model_config = ConfigDict(from_attributes=True, extra="forbid")

    weekday: int = Field(ge=0, le=6)
    opens: time
    closes: time

    @model_validator(mode="after")
    def _order(self) -> OpeningDay:
        if self.closes <= self.opens:
            raise ValueError("closes must be after opens")
        return self


class HolidayPublic(BaseModel):
    """A day a site is closed."""

    model_config = ConfigDict(from_attributes=True, extra="forbid")

    day: date
    name: str = Field(min_length=1, max_length=100)
