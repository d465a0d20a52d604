"""Facility views of the plans: counts only, with the reports' small-cell suppression."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy import select

from backend.dependencies import ManagerDep, SessionDep
from backend.facility.csv_export import csv_response
from backend.facility.deps import ConfigDep, min_group
from backend.plans import aggregate, sustainability
from backend.plans.service import check_site, today
from backend.spaces.models import Site

router = APIRouter(prefix="/api/v1/facility", tags=["facility"])


@router.get("/planned")
def read_planned(
    session: SessionDep,
    _: ManagerDep,
    cfg: ConfigDep,
    site: Annotated[str | None, Query(min_length=1, max_length=63)] = None,
    day: date | None = None,
) -> dict[str, Any]:
    """People planning to work per site on ``day`` (default tomorrow).

    From week plans and desk bookings; a site under ``min_group`` people is
    suppressed (``people`` null, ``by_floor`` empty).
    """
    day = day or today() + timedelta(days=1)
    if site is not None:
        check_site(session, site)
    sites = [site] if site else list(session.scalars(select(Site.id).order_by(Site.id)))
    k = min_group(cfg)
    rows = []
    for site_id in sites:
        counted = aggregate.planned_counts(session, site_id=site_id, day=day, min_group=k)
        rows.append(
            {
                "site": site_id,
                "people": None if counted.suppressed else counted.people,
                "by_floor": counted.by_floor,
                "suppressed": counted.suppressed,
            }
        )
    return {"day": day.isoformat(), "min_group": k, "source": "week plans and desk bookings",
            "rows": rows}  # fmt: skip


@router.get("/sustainability", response_model=None)
def read_sustainability(
    session: SessionDep,
    _: ManagerDep,
    cfg: ConfigDep,
    start: date,
    end: date,
    period: Literal["week", "month"] = "week",
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | Response:
    """Work days per kind of base per week or month, from check-ins and plans.

    Kinds: central office, field base, satellite, home. A cell with fewer than
    ``min_group`` people is suppressed (``null``, an empty CSV field).
    """
    k = min_group(cfg)
    rows = [
        asdict(r) for r in sustainability.work_days(session, start, end, period=period, min_group=k)
    ]
    if format == "csv":
        return csv_response(rows, "sustainability")
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "period": period,
        "min_group": k,
        "kinds": list(sustainability.KINDS),
        "rows": rows,
    }
