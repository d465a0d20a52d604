"""Pydantic schemas of the registry API (read schemas load from ORM rows)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contract import ID_PATTERN, SPACE_ID_PATTERN

SiteKind = Literal["central_office", "field_base", "satellite"]
SpaceKind = Literal["desk", "focus_room", "meeting_room"]
SensorSource = Literal["pir", "radar", "fused"]


class SitePublic(BaseModel):
    """A site as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    kind: SiteKind
    timezone: str
    address: str | None
    city: str | None
    latitude: float | None = None
    longitude: float | None = None


class FloorPublic(BaseModel):
    """A floor and the size of its plan."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    site_id: str
    name: str
    level: int
    plan_width: float
    plan_height: float


class SpacePublic(BaseModel):
    """A desk or room with its attributes and its shape on the floor plan."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    site_id: str
    floor_id: str
    kind: SpaceKind
    name: str
    zone: str | None
    quiet: bool
    capacity: int
    standing: bool
    screen: bool
    accessible: bool
    x: float
    y: float
    w: float
    h: float


class DevicePublic(BaseModel):
    """A sensor node and the space it watches (null when unassigned)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    site_id: str
    space_id: str | None
    source: SensorSource
    heartbeat_s: int


class DeviceAssign(BaseModel):
    """Body of ``PUT /api/v1/devices/{device_id}``: move a sensor without reflashing it.

    ``site_id`` is needed only to create a device the registry does not know yet
    and that is not assigned to a space (otherwise the space's site is used).
    """

    model_config = ConfigDict(extra="forbid")

    # Anchored whole-string patterns (pydantic's ``$`` is the end of the text, never
    # before a trailing newline): an id ends up in an MQTT topic.
    space_id: str | None = Field(pattern=f"^{SPACE_ID_PATTERN.pattern}$")
    site_id: str | None = Field(default=None, pattern=f"^{ID_PATTERN.pattern}$")
    source: SensorSource | None = None
    heartbeat_s: int | None = Field(default=None, ge=5, le=86400)


#: A zone ends up in InfluxDB tags and HVAC topics: letters, digits, "-" and "_" only.
ZONE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
#: A name is shown on screens: printable text, no control characters.
NAME_PATTERN = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"
#: Plan units (about a pixel at 1080p); a tile smaller than this is unreadable from 3 m.
MIN_SIDE = 20.0
MAX_PLAN = 100_000.0


class SpaceUpdate(BaseModel):
    """Body of ``PATCH /api/v1/spaces/{space_id}``: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NAME_PATTERN)
    zone: str | None = Field(default=None, pattern=ZONE_PATTERN)
    quiet: bool | None = None
    capacity: int | None = Field(default=None, ge=1, le=500)
    standing: bool | None = None
    screen: bool | None = None
    accessible: bool | None = None
    x: float | None = Field(default=None, ge=0, le=MAX_PLAN, allow_inf_nan=False)
    y: float | None = Field(default=None, ge=0, le=MAX_PLAN, allow_inf_nan=False)
    w: float | None = Field(default=None, ge=MIN_SIDE, le=MAX_PLAN, allow_inf_nan=False)
    h: float | None = Field(default=None, ge=MIN_SIDE, le=MAX_PLAN, allow_inf_nan=False)


class SpaceCreate(BaseModel):
    """Body of ``POST /api/v1/floors/{floor_id}/spaces``: a new desk or room on the plan."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=f"^{SPACE_ID_PATTERN.pattern}$")
    kind: SpaceKind
    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    zone: str | None = Field(default=None, pattern=ZONE_PATTERN)
    quiet: bool = False
    capacity: int = Field(default=1, ge=1, le=500)
    standing: bool = False
    screen: bool = False
    accessible: bool = False
    x: float = Field(ge=0, le=MAX_PLAN, allow_inf_nan=False)
    y: float = Field(ge=0, le=MAX_PLAN, allow_inf_nan=False)
    w: float = Field(ge=MIN_SIDE, le=MAX_PLAN, allow_inf_nan=False)
    h: float = Field(ge=MIN_SIDE, le=MAX_PLAN, allow_inf_nan=False)


class DrawingSummary(BaseModel):
    """Answer to an uploaded drawing: what was stored."""

    floor_id: str
    features: int
    kinds: dict[str, int]
