"""Facility API: utilisation, cleaning list, no-show rate, consolidation advice.

Only the facility and admin roles may read it; every figure is per group of spaces.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import func, select

from backend.bookings.models import Booking
from backend.dependencies import ManagerDep, SessionDep
from backend.errors import InvalidInput, Unavailable
from backend.facility import service
from backend.facility.sources import HistorySource, InfluxSource, SqliteSource
from gateway.errors import HistoryUnavailable

#: Longest report period: one year and a leap day.
MAX_DAYS = 366

router = APIRouter(prefix="/api/v1/facility", tags=["facility"])


class FacilitySettings(BaseSettings):
    """Where the history is and the privacy floor of the reports."""

    model_config = SettingsConfigDict(env_prefix="WERKPLEK_")

    influx_url: str | None = None
    influx_database: str = "werkplek"
    influx_token: str | None = None
    influx_username: str | None = None
    influx_password: str | None = None
    history_path: str = "var/history.sqlite3"
    facility_min_group: int = Field(default=5, ge=2)
    cleaning_min_minutes: float = Field(default=15.0, ge=0)


@lru_cache(maxsize=1)
def facility_settings() -> FacilitySettings:
    """The settings, read once."""
    return FacilitySettings()


def history_source() -> Iterator[HistorySource]:
    """The configured history store (InfluxDB when set, else the SQLite file)."""
    cfg = facility_settings()
    source: HistorySource = SqliteSource(cfg.history_path)
    if cfg.influx_url:
        source = InfluxSource(
            cfg.influx_url,
            cfg.influx_database,
            token=cfg.influx_token,
            username=cfg.influx_username,
            password=cfg.influx_password,
        )
    try:
        yield source
    finally:
        source.close()


SourceDep = Annotated[HistorySource, Depends(history_source)]
Level = Literal["site", "floor", "zone", "kind"]


def _span(start: date, end: date) -> tuple[int, int]:
    """Epoch ms of local midnight of ``start`` and of the day after ``end``."""
    if end < start:
        raise InvalidInput("end lies before start", reason="bad_period")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput(f"a period spans at most {MAX_DAYS} days", reason="bad_period")
    first = datetime(start.year, start.month, start.day, tzinfo=service.TZ)
    last = datetime(end.year, end.month, end.day, tzinfo=service.TZ) + timedelta(days=1)
    return int(first.timestamp() * 1000), int(last.timestamp() * 1000)


def _unavailable(exc: HistoryUnavailable) -> Unavailable:
    return Unavailable(f"history store unavailable: {exc}", reason="history_unavailable")


def _min_group(requested: int | None) -> int:
    """The caller may raise the privacy floor, never lower it."""
    floor = facility_settings().facility_min_group
    return max(floor, requested or floor)


@router.get("/utilisation")
def get_utilisation(
    _: ManagerDep,
    source: SourceDep,
    start: date,
    end: date,
    level: Level = "floor",
    min_group: Annotated[int | None, Query(ge=2)] = None,
) -> dict[str, Any]:
    """Share of opening hours occupied per group; groups under the minimum are suppressed."""
    lo, hi = _span(start, end)
    try:
        hours = source.group_hours(lo, hi, service.LEVEL_TAGS[level])
        spaces = source.group_spaces(lo, hi)
    except HistoryUnavailable as exc:
        raise _unavailable(exc) from exc
    k = _min_group(min_group)
    rows = service.utilisation(hours, spaces, level, opening=service.Opening(), min_group=k)
    return {"level": level, "min_group": k, "rows": [asdict(r) for r in rows]}


@router.get("/consolidation")
def get_consolidation(
    _: ManagerDep,
    source: SourceDep,
    start: date,
    end: date,
    level: Literal["floor", "zone"] = "floor",
    threshold: Annotated[float, Query(gt=0, le=1)] = 0.3,
) -> dict[str, Any]:
    """Floors or zones whose peak occupancy on a weekday stays under ``threshold``."""
    lo, hi = _span(start, end)
    try:
        hours = source.group_hours(lo, hi, service.LEVEL_TAGS[level])
        spaces = source.group_spaces(lo, hi)
    except HistoryUnavailable as exc:
        raise _unavailable(exc) from exc
    advice = service.consolidation(
        hours, spaces, level, opening=service.Opening(), min_group=_min_group(None),
        threshold=threshold,
    )  # fmt: skip
    return {"level": level, "threshold": threshold, "advice": [asdict(a) for a in advice]}


@router.get("/cleaning")
def get_cleaning(
    _: ManagerDep,
    source: SourceDep,
    day: date,
    min_minutes: Annotated[float | None, Query(ge=0)] = None,
) -> dict[str, Any]:
    """Spaces used on ``day`` (clean them) and not used (skip them)."""
    lo, hi = _span(day, day)
    now_ms = int(datetime.now(service.TZ).timestamp() * 1000)
    try:
        points = source.raw_points(lo, hi)
    except HistoryUnavailable as exc:
        raise _unavailable(exc) from exc
    limit = facility_settings().cleaning_min_minutes if min_minutes is None else min_minutes
    entries = service.cleaning_list(points, min(hi, now_ms), min_minutes=limit)
    return {
        "day": day.isoformat(),
        "min_minutes": limit,
        "clean": [asdict(e) for e in entries if e.clean],
        "skip": [asdict(e) for e in entries if not e.clean],
    }


@router.get("/no-shows")
def get_no_shows(_: ManagerDep, session: SessionDep, start: date, end: date) -> dict[str, Any]:
    """Share of bookings released as no-show per site and kind of space."""
    _span(start, end)
    no_show = (Booking.status == "released") & (Booking.end_reason == "no_show")
    rows = session.execute(
        select(Booking.site_id, Booking.space_kind, no_show, func.count())
        .where(Booking.status != "cancelled")
        .where(Booking.local_day >= start, Booking.local_day <= end)
        .group_by(Booking.site_id, Booking.space_kind, no_show)
    ).all()
    counts = [(str(r[0]), str(r[1]), bool(r[2]), int(r[3])) for r in rows]
    k = _min_group(None)
    return {
        "min_group": k,
        "rows": [asdict(r) for r in service.no_show_rates(counts, min_group=k)],
    }
