"""Reads and writes of the registry; raises domain errors, never HTTP ones."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import Conflict, InvalidInput, NotFound
from backend.spaces.models import Device, Floor, Site, Space
from backend.spaces.schemas import DeviceAssign
from contract import is_valid_id


def list_sites(session: Session) -> Sequence[Site]:
    """Return every site, central offices first."""
    return session.scalars(select(Site).order_by(Site.kind, Site.id)).all()


def get_site(session: Session, site_id: str) -> Site:
    """Return one site or raise NotFound."""
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound(f"site {site_id!r} does not exist", reason="site_not_found")
    return site


def list_floors(session: Session, site_id: str | None = None) -> Sequence[Floor]:
    """Return the floors of one site (or of all: central offices first), lowest level first."""
    query = (
        select(Floor)
        .join(Site, Floor.site_id == Site.id)
        .order_by(Site.kind, Site.id, Floor.level, Floor.id)
    )
    if site_id is not None:
        get_site(session, site_id)
        query = query.where(Floor.site_id == site_id)
    return session.scalars(query).all()


def get_floor(session: Session, floor_id: str) -> Floor:
    """Return one floor or raise NotFound."""
    floor = session.get(Floor, floor_id)
    if floor is None:
        raise NotFound(f"floor {floor_id!r} does not exist", reason="floor_not_found")
    return floor


def list_spaces(
    session: Session, *, floor_id: str | None = None, site_id: str | None = None
) -> Sequence[Space]:
    """Return the spaces of one floor, one site or everywhere, ordered by id."""
    query = select(Space).order_by(Space.id)
    if floor_id is not None:
        get_floor(session, floor_id)
        query = query.where(Space.floor_id == floor_id)
    if site_id is not None:
        get_site(session, site_id)
        query = query.where(Space.site_id == site_id)
    return session.scalars(query).all()


def list_devices(session: Session, site_id: str | None = None) -> Sequence[Device]:
    """Return the devices of one site (or all), ordered by id."""
    query = select(Device).order_by(Device.id)
    if site_id is not None:
        get_site(session, site_id)
        query = query.where(Device.site_id == site_id)
    return session.scalars(query).all()


def assign_device(session: Session, device_id: str, change: DeviceAssign) -> Device:
    """Assign a device to a space (or unassign it), creating the device when it is new.

    The caller republishes the retained registry message after the commit.

    Raises:
        InvalidInput: the device id breaks the contract, or a new device has no site.
        NotFound: the space or site does not exist.
        Conflict: the space is on another site than the device.
    """
    if not is_valid_id(device_id):
        raise InvalidInput(f"device id {device_id!r} breaks the contract", reason="bad_device_id")
    space = None
    if change.space_id is not None:
        space = session.get(Space, change.space_id)
        if space is None:
            raise NotFound(f"space {change.space_id!r} does not exist", reason="space_not_found")
    device = session.get(Device, device_id)
    if device is None:
        site_id = space.site_id if space is not None else change.site_id
        if site_id is None:
            raise InvalidInput("a new device needs a space_id or a site_id", reason="no_site")
        get_site(session, site_id)
        device = Device(
            id=device_id,
            site_id=site_id,
            source=change.source or ("fused" if space and space.kind != "desk" else "radar"),
            heartbeat_s=change.heartbeat_s or 60,
        )
        session.add(device)
    if change.site_id is not None and change.site_id != device.site_id:
        raise Conflict(
            f"device {device_id!r} belongs to site {device.site_id!r}", reason="site_mismatch"
        )
    if space is not None and space.site_id != device.site_id:
        raise Conflict(
            f"space {space.id!r} is on site {space.site_id!r}, device {device_id!r} on "
            f"{device.site_id!r}",
            reason="site_mismatch",
        )
    device.space_id = change.space_id
    if change.source is not None:
        device.source = change.source
    if change.heartbeat_s is not None:
        device.heartbeat_s = change.heartbeat_s
    session.commit()
    return device
