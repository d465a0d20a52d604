"""What a facility request is given: history store, settings, sites' hours and zones, ports.

FastAPI dependencies, one per input, so the router stays a list of endpoints and
tests replace any of them (``app.dependency_overrides``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request

from backend.clock import wall_utcnow
from backend.dependencies import RuntimeDep, SessionDep
from backend.facility import energy, queries
from backend.facility.hvac import HvacPort
from backend.facility.opening import Opening, site_openings
from backend.facility.plans import PlansReader, plans_reader
from backend.facility.settings import FacilitySettings
from history.facility import HistorySource, open_source


def facility_config(runtime: RuntimeDep) -> FacilitySettings:
    """The app's facility settings (privacy floor, cleaning, energy, where history is).

    The backend's settings are built on them, so ``create_app(settings)`` decides.
    """
    return runtime.settings


ConfigDep = Annotated[FacilitySettings, Depends(facility_config)]


def history_source(cfg: ConfigDep) -> Iterator[HistorySource]:
    """The configured history store for one request."""
    source = open_source(cfg)
    try:
        yield source
    finally:
        source.close()


def openings_of(session: SessionDep) -> dict[str, Opening]:
    """Every site's opening hours, holidays and time zone from the bookings domain."""
    return site_openings(session)


def site_zones(session: SessionDep) -> dict[str, ZoneInfo]:
    """Every site's own time zone (one cheap query; most reports need no more)."""
    return queries.site_zones(session)


def clock() -> datetime:
    """The request's "now" (aware, UTC); tests replace it to pin a moment.

    The wall clock's (``backend.clock.wall_utcnow``): the facility reports read the
    sensor history, which the gateway stamps in real time, also under the demo's
    simulated day. In production it is ``utcnow``.
    """
    return wall_utcnow()


def hvac_port(request: Request) -> HvacPort | None:
    """The port the app wired for HVAC commands (None in an app built without one)."""
    port: HvacPort | None = getattr(request.app.state, "hvac_port", None)
    return port


SourceDep = Annotated[HistorySource, Depends(history_source)]
Openings = Annotated[dict[str, Opening], Depends(openings_of)]
SiteZones = Annotated[dict[str, ZoneInfo], Depends(site_zones)]
HvacPortDep = Annotated[HvacPort | None, Depends(hvac_port)]
PlansDep = Annotated[PlansReader, Depends(plans_reader)]
NowDep = Annotated[datetime, Depends(clock)]


def min_group(cfg: FacilitySettings, requested: int | None = None) -> int:
    """The privacy floor: a caller may raise it, never lower it."""
    floor = cfg.facility_min_group
    return max(floor, requested or floor)


def assumptions(cfg: FacilitySettings) -> energy.Assumptions:
    """What the energy figures rest on, from the settings."""
    return energy.Assumptions(
        kw_per_zone=cfg.energy_kw_per_zone,
        setback_saving=cfg.energy_setback_saving,
        setback_below=cfg.energy_setback_below,
        history_weeks=cfg.energy_history_weeks,
    )
