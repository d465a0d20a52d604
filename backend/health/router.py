"""Sensor health endpoint for facility management and admins."""

from __future__ import annotations

import time
from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Query

from backend.dependencies import ManagerDep, RuntimeDep
from backend.errors import NotFound
from backend.health.schemas import HealthReportPublic

router = APIRouter(prefix="/api/v1", tags=["health"])

SiteQuery = Annotated[
    str | None, Query(description="site id, e.g. hq", pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
]


@router.get("/devices/health", response_model=HealthReportPublic)
async def read_device_health(
    runtime: RuntimeDep, _token: ManagerDep, site: SiteQuery = None
) -> HealthReportPublic:
    """Return every sensor's last health record with its problems (facility and admin only)."""
    store = runtime.health
    if site is not None and site not in runtime.hub.sites:
        if not any(key[0] == site for key in store.records):
            raise NotFound(f"site {site!r} does not exist", reason="site_not_found")
    now_ms = int(time.time() * 1000)
    rows = store.report(site, now_ms)
    counts = Counter(row["problem"] or "ok" for row in rows)
    return HealthReportPublic.model_validate(
        {"site": site, "generated": now_ms, "devices": rows, "problem_counts": dict(counts)}
    )
