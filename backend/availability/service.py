"""Combines the registry with live state into per-space availability and floor counts.

``combine`` is the single rule for what a screen shows. Bookings are one more
input: a vacant space with a running booking shows as ``booked`` until its end;
a walk-in on an unbooked desk shows as ``occupied``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.orm import Session

from backend.availability.live import SpaceState
from backend.spaces import editing as spaces_editing
from backend.spaces import service as spaces_service
from backend.spaces.models import Space

Availability = Literal["free", "occupied", "unknown", "booked"]


@dataclass(frozen=True, slots=True)
class SpaceInfo:
    """The registry facts about a space that availability needs."""

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


@dataclass(frozen=True, slots=True)
class FloorInfo:
    """The registry facts about a floor."""

    floor: str
    site: str
    name: str
    level: int
    #: Changes whenever the floor's plan (spaces' shapes, names, drawing) changes.
    plan_rev: int = 0


@dataclass(frozen=True, slots=True)
class SpaceAvailability:
    """What a screen shows for one space; ``reason`` says why it is unknown."""

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
    availability: Availability
    reason: str
    since: int | None
    #: Booked: when the booking ends; free: when the next booking starts (ms), else None.
    until: int | None = None


@dataclass(frozen=True, slots=True)
class FreeRoom:
    """A free room listed on signage with its capacity."""

    space_id: str
    name: str
    kind: str
    capacity: int


@dataclass(frozen=True, slots=True)
class FloorSummary:
    """Counts per floor for "Verdieping 2: 14 stille werkplekken vrij"."""

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
    free_room_list: tuple[FreeRoom, ...] = field(default=())
    #: The floor's plan revision: a screen fetches its plan again when it changes.
    plan_rev: int = 0


@dataclass(frozen=True, slots=True)
class Context:
    """Inputs shared by every space in one evaluation.

    ``gateway`` is ``online``, ``offline`` (every known gateway's Last Will fired) or
    ``unknown`` (no gateway status seen yet).
    """

    now_ms: int
    connected: bool
    stale_after_ms: int
    disconnected_ms: int | None = None
    gateway: str = "unknown"
    gateway_since: int | None = None


def combine(
    space: SpaceInfo,
    state: SpaceState | None,
    ctx: Context,
    *,
    booked: bool = False,
    until: int | None = None,
) -> SpaceAvailability:
    """Decide one space's availability; silence, a dead gateway or a lost broker mean unknown.

    A live gateway keeps every retained state current itself (it turns silent sensors
    unknown and publishes only changes), so the age of a state only counts when no
    gateway status has been seen at all.
    """
    availability: Availability
    if not ctx.connected:
        availability, reason, since = "unknown", "disconnected", ctx.disconnected_ms
    elif ctx.gateway == "offline":
        availability, reason, since = "unknown", "gateway_offline", ctx.gateway_since
    elif state is None:
        availability, reason, since = "unknown", "no_state", None
    elif ctx.gateway == "unknown" and ctx.now_ms - state.updated > ctx.stale_after_ms:
        availability, reason, since = "unknown", "stale", state.updated + ctx.stale_after_ms
    elif state.state == "occupied":
        availability, reason, since = "occupied", state.reason, state.since
    elif state.state == "vacant":
        availability = "booked" if booked else "free"
        reason, since = state.reason, state.since
    else:
        availability, reason, since = "unknown", state.reason, state.since
    return SpaceAvailability(
        space_id=space.space_id,
        site=space.site,
        floor=space.floor,
        kind=space.kind,
        name=space.name,
        zone=space.zone,
        quiet=space.quiet,
        capacity=space.capacity,
        standing=space.standing,
        screen=space.screen,
        accessible=space.accessible,
        availability=availability,
        reason=reason,
        since=since,
        until=until if availability in ("free", "booked") or booked else None,
    )


def summarize_floor(floor: FloorInfo, items: Iterable[SpaceAvailability]) -> FloorSummary:
    """Count free desks, free quiet desks and free rooms on one floor."""
    desks = free_desks = free_quiet = occupied = unknown = rooms = 0
    free_rooms: list[FreeRoom] = []
    for item in items:
        occupied += item.availability == "occupied"
        unknown += item.availability == "unknown"
        free = item.availability == "free"
        if item.kind == "desk":
            desks += 1
            free_desks += free
            free_quiet += free and item.quiet
        else:
            rooms += 1
            if free:
                free_rooms.append(FreeRoom(item.space_id, item.name, item.kind, item.capacity))
    return FloorSummary(
        floor=floor.floor,
        site=floor.site,
        name=floor.name,
        level=floor.level,
        desks=desks,
        free_desks=free_desks,
        free_quiet_desks=free_quiet,
        occupied=occupied,
        unknown=unknown,
        rooms=rooms,
        free_rooms=len(free_rooms),
        free_room_list=tuple(sorted(free_rooms, key=lambda r: (-r.capacity, r.name))),
        plan_rev=floor.plan_rev,
    )


def space_info(s: Space) -> SpaceInfo:
    """The availability facts of one registry space (live view and later windows alike)."""
    return SpaceInfo(
        space_id=s.id,
        site=s.site_id,
        floor=s.floor_id,
        kind=s.kind,
        name=s.name,
        zone=s.zone,
        quiet=s.quiet,
        capacity=s.capacity,
        standing=s.standing,
        screen=s.screen,
        accessible=s.accessible,
    )


def load_registry(session: Session) -> tuple[list[SpaceInfo], list[FloorInfo]]:
    """Read the spaces and floors availability is computed for."""
    rows = spaces_service.list_spaces(session)
    spaces = [space_info(s) for s in rows]
    revisions = spaces_editing.plan_revisions(session, rows)
    floors = [
        FloorInfo(f.id, f.site_id, f.name, f.level, plan_rev=revisions.get(f.id, 0))
        for f in spaces_service.list_floors(session)
    ]
    return spaces, floors
