"""Registry endpoints: read sites, floors, spaces, drawings and devices; edit them.

Spaces and drawings are edited by facility and admin; devices are assigned by admin.
After an edit the registry is reloaded at once, which republishes the devices'
retained assignments and sends every screen a fresh snapshot with the floor's new
``plan_rev`` (other replicas follow on their next registry check).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import anyio.from_thread
from fastapi import APIRouter, Body, Request, Response

from backend.dependencies import AdminDep, ManagerDep, ReaderDep, RuntimeDep, SessionDep
from backend.spaces import editing, qr, service
from backend.spaces.models import Space
from backend.spaces.schemas import (
    DeviceAssign,
    DevicePublic,
    DrawingSummary,
    FloorPublic,
    SitePublic,
    SpaceCreate,
    SpacePublic,
    SpaceUpdate,
)

#: OpenAPI of an uploaded drawing (the body is checked by ``backend/spaces/drawing.py``).
DRAWING_BODY: dict[str, Any] = {
    "type": "object",
    "description": "GeoJSON FeatureCollection in plan units (docs/architecture.md, Registry)",
}
GEOJSON = "application/geo+json"

router = APIRouter(prefix="/api/v1", tags=["registry"])


@router.get("/sites", response_model=list[SitePublic])
def read_sites(session: SessionDep, _token: ReaderDep) -> list[SitePublic]:
    """List every site."""
    return [SitePublic.model_validate(s) for s in service.list_sites(session)]


@router.get("/sites/{site_id}/floors", response_model=list[FloorPublic])
def read_floors(site_id: str, session: SessionDep, _token: ReaderDep) -> list[FloorPublic]:
    """List the floors of a site, lowest first."""
    return [FloorPublic.model_validate(f) for f in service.list_floors(session, site_id)]


@router.get("/sites/{site_id}/devices", response_model=list[DevicePublic])
def read_devices(site_id: str, session: SessionDep, _token: ReaderDep) -> list[DevicePublic]:
    """List the sensor nodes of a site and the spaces they watch."""
    return [DevicePublic.model_validate(d) for d in service.list_devices(session, site_id)]


@router.get("/floors/{floor_id}/spaces", response_model=list[SpacePublic])
def read_spaces(floor_id: str, session: SessionDep, _token: ReaderDep) -> list[SpacePublic]:
    """List the desks and rooms of a floor with their plan shapes."""
    spaces = service.list_spaces(session, floor_id=floor_id)
    return [SpacePublic.model_validate(s) for s in spaces]


@router.get("/spaces/{space_id}/qr.svg", response_class=Response)
def read_space_qr(
    space_id: str, request: Request, session: SessionDep, _token: ManagerDep
) -> Response:
    """The space's check-in QR code (SVG) for a printed sticker; facility and admin only."""
    body = qr.space_qr(session, space_id, str(request.base_url))
    return Response(body, media_type="image/svg+xml")


@router.put("/devices/{device_id}", response_model=DevicePublic)
def update_device(
    device_id: str,
    change: DeviceAssign,
    session: SessionDep,
    runtime: RuntimeDep,
    _token: AdminDep,
) -> DevicePublic:
    """Assign a device to a space (or unassign it) and republish its retained registry message."""
    device = service.assign_device(session, device_id, change)
    space = session.get(Space, device.space_id) if device.space_id else None
    runtime.publisher.update(device, space)
    return DevicePublic.model_validate(device)


def _reload(runtime: Any) -> None:
    # Sync routes run in a worker thread; the registry lives on the event loop.
    anyio.from_thread.run(runtime.reload_registry)


@router.post("/floors/{floor_id}/spaces", response_model=SpacePublic, status_code=201)
def create_space(
    floor_id: str, new: SpaceCreate, session: SessionDep, runtime: RuntimeDep, _token: ManagerDep
) -> SpacePublic:
    """Add a desk or room to a floor (facility, admin)."""
    space = editing.create_space(session, floor_id, new)
    _reload(runtime)
    return SpacePublic.model_validate(space)


@router.patch("/spaces/{space_id}", response_model=SpacePublic)
def update_space(
    space_id: str,
    change: SpaceUpdate,
    session: SessionDep,
    runtime: RuntimeDep,
    _token: ManagerDep,
) -> SpacePublic:
    """Change a space's name, zone, features, position or size (facility, admin)."""
    space = editing.update_space(session, space_id, change)
    _reload(runtime)
    return SpacePublic.model_validate(space)


@router.delete("/spaces/{space_id}", status_code=204, response_class=Response)
def delete_space(
    space_id: str, session: SessionDep, runtime: RuntimeDep, _token: ManagerDep
) -> Response:
    """Remove a space without current or future bookings; its sensors become unassigned."""
    editing.delete_space(session, space_id)
    _reload(runtime)
    return Response(status_code=204)


@router.get(
    "/floors/{floor_id}/drawing",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {"schema": DRAWING_BODY}}}},
)
def read_drawing(floor_id: str, session: SessionDep, _token: ReaderDep) -> Response:
    """The floor's drawing as GeoJSON: walls, rooms, corridors, landmarks (may be empty)."""
    body = json.dumps(editing.get_drawing(session, floor_id), separators=(",", ":"))
    return Response(body, media_type=GEOJSON)


@router.put("/floors/{floor_id}/drawing", response_model=DrawingSummary)
def upload_drawing(
    floor_id: str,
    document: Annotated[dict[str, Any], Body(media_type="application/json")],
    session: SessionDep,
    runtime: RuntimeDep,
    _token: ManagerDep,
) -> DrawingSummary:
    """Replace the floor's drawing with a GeoJSON FeatureCollection (facility, admin)."""
    summary = editing.set_drawing(session, floor_id, document)
    _reload(runtime)
    return summary


@router.put("/floors/{floor_id}/drawing/svg", response_model=DrawingSummary)
def upload_drawing_svg(
    floor_id: str,
    body: Annotated[bytes, Body(media_type="image/svg+xml")],
    session: SessionDep,
    runtime: RuntimeDep,
    _token: ManagerDep,
) -> DrawingSummary:
    """Replace the floor's drawing with the marked shapes of an SVG (facility, admin)."""
    summary = editing.set_drawing_svg(session, floor_id, body)
    _reload(runtime)
    return summary


@router.delete("/floors/{floor_id}/drawing", status_code=204, response_class=Response)
def delete_drawing(
    floor_id: str, session: SessionDep, runtime: RuntimeDep, _token: ManagerDep
) -> Response:
    """Remove the floor's drawing; its spaces stay."""
    editing.delete_drawing(session, floor_id)
    _reload(runtime)
    return Response(status_code=204)
