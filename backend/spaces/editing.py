"""Edits of the registry by facility and admin: spaces on the plan, and the floor's drawing.

Every rule is checked here and raises a domain error with a reason; the caller
reloads the registry after the commit, which republishes the devices' retained
assignments and sends every screen a fresh snapshot (``plan_rev`` changes).
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.bookings.models import ACTIVE, Booking
from backend.errors import Conflict, InvalidInput, NotFound
from backend.spaces.drawing import as_geojson, parse_drawing
from backend.spaces.models import Device, Floor, FloorDrawing, Space, utcnow
from backend.spaces.schemas import DrawingSummary, SpaceCreate, SpaceUpdate
from backend.spaces.service import get_floor
from backend.spaces.svg import svg_to_geojson

#: Fields of a space that may not be set to null.
_REQUIRED = ("name", "quiet", "capacity", "standing", "screen", "accessible", "x", "y", "w", "h")


def get_space(session: Session, space_id: str) -> Space:
    """Return one space or raise NotFound."""
    space = session.get(Space, space_id)
    if space is None:
        raise NotFound(f"space {space_id!r} does not exist", reason="space_not_found")
    return space


def _check_place(session: Session, floor: Floor, space: Space) -> None:
    """The rectangle lies on the plan and overlaps no other space of the floor."""
    if space.x + space.w > floor.plan_width or space.y + space.h > floor.plan_height:
        raise InvalidInput(
            f"{space.id}: the rectangle ({space.x:g}, {space.y:g}, {space.w:g} x {space.h:g}) "
            f"reaches outside the plan ({floor.plan_width:g} x {floor.plan_height:g})",
            reason="space_outside_plan",
        )
    others = session.scalars(
        select(Space).where(Space.floor_id == floor.id, Space.id != space.id)
    ).all()
    for other in others:
        if (
            space.x < other.x + other.w
            and other.x < space.x + space.w
            and space.y < other.y + other.h
            and other.y < space.y + space.h
        ):
            raise Conflict(
                f"{space.id} would overlap {other.id} ({other.name})", reason="space_overlap"
            )


def create_space(session: Session, floor_id: str, new: SpaceCreate) -> Space:
    """Add a desk or room to a floor.

    Raises:
        NotFound: the floor does not exist.
        Conflict: the id is taken, or the rectangle overlaps another space.
        InvalidInput: the rectangle reaches outside the plan.
    """
    floor = get_floor(session, floor_id)
    if session.get(Space, new.id) is not None:
        raise Conflict(f"space {new.id!r} already exists", reason="space_exists")
    space = Space(site_id=floor.site_id, floor_id=floor.id, **new.model_dump())
    _check_place(session, floor, space)
    session.add(space)
    session.commit()
    return space


def update_space(session: Session, space_id: str, change: SpaceUpdate) -> Space:
    """Change a space's name, zone, features, position or size; only the given fields.

    Raises:
        NotFound: the space does not exist.
        InvalidInput: a required field set to null, or the rectangle outside the plan.
        Conflict: the new rectangle overlaps another space.
    """
    space = get_space(session, space_id)
    for field in sorted(change.model_fields_set):
        value = getattr(change, field)
        if value is None and field in _REQUIRED:
            raise InvalidInput(f"{field} cannot be null", reason="null_not_allowed")
        setattr(space, field, value)
    _check_place(session, get_floor(session, space.floor_id), space)
    # Set explicitly: an edit that changes nothing still counts as the latest edit.
    space.updated_at = utcnow()
    session.commit()
    return space


def delete_space(session: Session, space_id: str) -> list[str]:
    """Remove a space; its sensors become unassigned. Return those sensors' ids.

    Past bookings go with it (the database cascades); current and future ones block it.

    Raises:
        NotFound: the space does not exist.
        Conflict: a booking of the space is running or still to come.
    """
    space = get_space(session, space_id)
    pending = exists().where(
        Booking.space_id == space.id,
        Booking.status.in_(ACTIVE),
        Booking.end_at > utcnow(),
    )
    if session.scalar(select(pending)):
        raise Conflict(
            f"{space.name} has current or future bookings; cancel or move them first",
            reason="space_has_bookings",
        )
    devices = list(session.scalars(select(Device.id).where(Device.space_id == space.id)))
    session.delete(space)
    try:
        session.commit()
    except IntegrityError:
        # A record of another domain that keeps its space (no cascade) holds it.
        session.rollback()
        raise Conflict(f"{space_id} is still referred to", reason="space_in_use") from None
    return devices


def set_drawing(session: Session, floor_id: str, document: Any) -> DrawingSummary:
    """Validate and store a floor's drawing, replacing the one before.

    Raises:
        NotFound: the floor does not exist.
        InvalidInput: the document breaks a rule (``drawing_*`` reasons).
    """
    floor = get_floor(session, floor_id)
    features = parse_drawing(document, floor.plan_width, floor.plan_height)
    text = json.dumps(features, separators=(",", ":"))
    row = session.get(FloorDrawing, floor.id)
    if row is None:
        row = FloorDrawing(floor_id=floor.id, features=text, feature_count=len(features))
        session.add(row)
    else:
        row.features, row.feature_count = text, len(features)
        row.updated_at = utcnow()
    session.commit()
    kinds = Counter(f["kind"] for f in features)
    return DrawingSummary(
        floor_id=floor.id, features=len(features), kinds=dict(sorted(kinds.items()))
    )


def set_drawing_svg(session: Session, floor_id: str, body: bytes) -> DrawingSummary:
    """Read an SVG's marked shapes (``backend/spaces/svg.py``) and store them as the drawing.

    Raises:
        NotFound: the floor does not exist.
        InvalidInput: ``svg_*`` or ``drawing_*`` reasons.
    """
    floor = get_floor(session, floor_id)
    document = svg_to_geojson(body, floor.plan_width, floor.plan_height)
    return set_drawing(session, floor_id, document)


def get_drawing(session: Session, floor_id: str) -> dict[str, Any]:
    """Return a floor's drawing as GeoJSON (no features when none was uploaded)."""
    get_floor(session, floor_id)
    row = session.get(FloorDrawing, floor_id)
    return as_geojson(json.loads(row.features) if row is not None else [])


def delete_drawing(session: Session, floor_id: str) -> None:
    """Remove a floor's drawing (the spaces stay)."""
    get_floor(session, floor_id)
    row = session.get(FloorDrawing, floor_id)
    if row is not None:
        session.delete(row)
        session.commit()


def plan_revisions(session: Session, spaces: Iterable[Space]) -> dict[str, int]:
    """Return a number per floor that changes whenever what its plan shows changes.

    It covers each space's name, kind, zone, features and rectangle and the drawing,
    so a screen compares one number to know it must fetch its plan again.
    """
    parts: dict[str, list[Any]] = {}
    for s in sorted(spaces, key=lambda s: s.id):
        parts.setdefault(s.floor_id, []).append(
            (s.id, s.name, s.kind, s.zone, s.quiet, s.capacity, s.x, s.y, s.w, s.h)
        )
    for floor_id, updated in session.execute(
        select(FloorDrawing.floor_id, FloorDrawing.updated_at)
    ):
        parts.setdefault(floor_id, []).append(("drawing", str(updated)))
    return {floor_id: zlib.crc32(repr(items).encode()) for floor_id, items in parts.items()}
