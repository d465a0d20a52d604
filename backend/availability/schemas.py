"""Response schemas of the availability API (mirrors the hub's dataclasses)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel


class SpaceAvailabilityPublic(BaseModel):
    """One space as a screen shows it."""

    space_id: str
    site: str
    floor: str
    kind: str
    name: str
    zone: str | None
    quiet: bool
    capacity: int
    standing: bool
    screen: bool
    accessible: bool
    availability: Literal["free", "occupied", "unknown", "booked"]
    reason: str
    since: int | None
    until: int | None = None


class FreeRoomPublic(BaseModel):
    """A free room and its capacity."""

    space_id: str
    name: str
    kind: str
    capacity: int


class FloorSummaryPublic(BaseModel):
    """Counts for one floor."""

    floor: str
    site: str
    name: str
    level: int
    desks: int
    free_desks: int
    free_quiet_desks: int
    occupied: int
    unknown: int
    rooms: int
    free_rooms: int
    free_room_list: list[FreeRoomPublic]
    #: Changes whenever the floor's plan changes: a screen then fetches its plan again.
    plan_rev: int = 0


class AvailabilityPublic(BaseModel):
    """The spaces of the requested site/floor plus the counts of every floor."""

    site: str | None
    floor: str | None
    connected: bool
    gateway: Literal["online", "offline", "unknown"]
    generated: int
    stale_after_s: float
    spaces: list[SpaceAvailabilityPublic]
    floors: list[FloorSummaryPublic]


class SpaceAtPublic(BaseModel):
    """One space at the asked time: free, booked, or booked by the caller (``mine``)."""

    space_id: str
    floor: str
    kind: str
    name: str
    zone: str | None
    quiet: bool
    capacity: int
    standing: bool
    screen: bool
    accessible: bool
    availability: Literal["free", "booked", "mine"]


class AvailabilityAtPublic(BaseModel):
    """The spaces of a site or floor in one window; never who booked."""

    site: str
    floor: str | None
    date: dt.date
    part: Literal["morning", "afternoon", "day"] | None
    start: dt.datetime
    end: dt.datetime
    spaces: list[SpaceAtPublic]
