"""Questions people ask a screen or the app, answered from the in-memory live view.

"Free quiet desks on this floor now", "rooms for 6 people free for the next hour",
"nearest site with a free desk". No database round trip: the hub already holds
live state combined with bookings, so these stay fast on a large building.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from backend.availability.hub import AvailabilityHub
from backend.availability.schemas import SpaceAvailabilityPublic
from backend.dependencies import ReaderDep, RuntimeDep, SessionDep
from backend.errors import NotFound
from backend.spaces import service as spaces
from backend.spaces.models import Site

router = APIRouter(prefix="/api/v1", tags=["availability"])


def free_desks(
    hub: AvailabilityHub, floor_id: str, *, quiet: bool | None = None, **wanted: bool | None
) -> list[dict[str, Any]]:
    """Return the free desks of a floor matching the wanted attributes."""
    if floor_id not in hub.floors:
        raise NotFound(f"floor {floor_id!r} does not exist", reason="floor_not_found")
    out = []
    for item in hub.view.values():
        if item.floor != floor_id or item.kind != "desk" or item.availability != "free":
            continue
        if quiet is not None and item.quiet != quiet:
            continue
        if any(v is not None and getattr(item, k) != v for k, v in wanted.items()):
            continue
        out.append(asdict(item))
    return sorted(out, key=lambda d: d["space_id"])


@router.get("/floors/{floor_id}/free-desks", response_model=list[SpaceAvailabilityPublic])
async def read_free_desks(
    floor_id: str,
    runtime: RuntimeDep,
    _token: ReaderDep,
    quiet: bool | None = None,
    standing: bool | None = None,
    screen: bool | None = None,
    accessible: bool | None = None,
) -> Response:
    """Free desks on a floor now, e.g. ``?quiet=true`` for the stilte zone."""
    # Runs on the event loop, where the hub lives; the encoded answer is reused until
    # the view changes, so a wall of screens asking the same question costs one scan.
    hub = runtime.hub
    key = ("free-desks", floor_id, quiet, standing, screen, accessible)
    cached = hub.cache.get(key)
    if cached is None or cached[0] != hub.version:
        found = free_desks(
            hub, floor_id, quiet=quiet, standing=standing, screen=screen, accessible=accessible
        )
        cached = (hub.version, json.dumps(found, separators=(",", ":")).encode())
        if len(hub.cache) > 1000:
            hub.cache.clear()
        hub.cache[key] = cached
    return Response(cached[1], media_type="application/json")


@router.get("/rooms/free", response_model=list[SpaceAvailabilityPublic])
def read_free_rooms(
    runtime: RuntimeDep,
    _token: ReaderDep,
    site: str | None = None,
    capacity: Annotated[int, Query(ge=1, le=500)] = 1,
    minutes: Annotated[int, Query(ge=1, le=24 * 60)] = 60,
) -> list[dict[str, Any]]:
    """Rooms for at least ``capacity`` people, free now and not booked for ``minutes``."""
    return free_rooms(runtime.hub, site, capacity, minutes)


def free_rooms(
    hub: AvailabilityHub, site: str | None, capacity: int, minutes: int
) -> list[dict[str, Any]]:
    """Return the rooms free now whose next booking starts after ``minutes`` (smallest first)."""
    if site is not None and site not in hub.sites:
        raise NotFound(f"site {site!r} does not exist", reason="site_not_found")
    horizon = hub.clock_ms() + minutes * 60_000
    rooms = [
        asdict(item)
        for item in hub.view.values()
        if item.kind != "desk"
        and item.availability == "free"
        and item.capacity >= capacity
        and (site is None or item.site == site)
        and (item.until is None or item.until >= horizon)
    ]
    return sorted(rooms, key=lambda d: (d["capacity"], d["space_id"]))


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    # Haversine: good to metres at the scale of one municipality.
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


@router.get("/sites/nearest-free-desk")
def read_nearest_free_desk(
    session: SessionDep,
    runtime: RuntimeDep,
    _token: ReaderDep,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    quiet: bool | None = None,
) -> list[dict[str, Any]]:
    """Sites with a free desk now, nearest first, with the distance and the free count."""
    return nearest_sites(runtime.hub, spaces.list_sites(session), lat, lon, quiet)


def nearest_sites(
    hub: AvailabilityHub, sites: Iterable[Site], lat: float, lon: float, quiet: bool | None = None
) -> list[dict[str, Any]]:
    """Return the sites with a free (quiet) desk, nearest first."""
    free: dict[str, int] = {}
    for item in hub.view.values():
        if item.kind == "desk" and item.availability == "free":
            if quiet is None or item.quiet == quiet:
                free[item.site] = free.get(item.site, 0) + 1
    out = []
    for site in sites:
        if site.id in free and site.latitude is not None and site.longitude is not None:
            km = _km(lat, lon, site.latitude, site.longitude)
            out.append(
                {"site": site.id, "name": site.name, "km": round(km, 2), "free": free[site.id]}
            )
    return sorted(out, key=lambda d: d["km"])
