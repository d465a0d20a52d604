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
