"""Registry endpoints: read sites, floors, spaces and devices; assign a device (admin)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from backend.dependencies import AdminDep, ManagerDep, ReaderDep, RuntimeDep, SessionDep
from backend.spaces import qr, service
from backend.spaces.models import Space
from backend.spaces.schemas import (
    DeviceAssign,
    DevicePublic,
    FloorPublic,
    SitePublic,
    SpacePublic,
)

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
