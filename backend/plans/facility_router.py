"""Facility views of the plans: counts only, with the reports' small-cell suppression."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from backend.dependencies import ManagerDep, SessionDep
from backend.facility.csv_export import csv_response
from backend.plans import aggregate, sustainability
from backend.plans.schemas import PlannedCountPublic
from backend.plans.service import check_site

router = APIRouter(prefix="/api/v1/facility", tags=["facility"])


@router.get("/planned", response_model=PlannedCountPublic)
def read_planned(
    session: SessionDep,
    _: ManagerDep,
    site_id: Annotated[str, Query(min_length=1, max_length=63)],
    day: date,
) -> PlannedCountPublic:
    """How many people plan to work at a site on a day (suppressed below ``min_group``)."""
    check_site(session, site_id)
    counted = aggregate.planned_counts(session, site_id=site_id, day=day)
    return PlannedCountPublic(site_id=site_id, day=day, **asdict(counted))


@router.get("/sustainability", response_model=None)
def read_sustainability(
    session: SessionDep,
    _: ManagerDep,
    start: date,
    end: date,
    period: Literal["week", "month"] = "week",
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | Response:
    """Work days per kind of base per week or month, from check-ins and plans.

    Kinds: central office, field base, satellite, home. A cell with fewer than
    ``min_group`` people is suppressed (``null``, an empty CSV field).
    """
    k = aggregate.default_min_group()
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
