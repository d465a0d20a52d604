"""Facility API: utilisation, cleaning list, no-show rate, energy, consolidation advice.

Only the facility and admin roles may read it; every figure is per group of
spaces. The router parses requests, checks roles and turns errors into problem
details; the queries (:mod:`queries`), the services (:mod:`reports`,
:mod:`cleaning`, :mod:`forecast`, :mod:`advice`, :mod:`hvac`) and the pure figures
(:mod:`service`, :mod:`usage`, :mod:`energy`) sit below it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from backend.dependencies import ManagerDep, SessionDep
from backend.errors import Unavailable
from backend.facility import advice, cleaning, forecast, hvac, reports
from backend.facility.csv_export import csv_response
from backend.facility.deps import (
    ConfigDep,
    HvacPortDep,
    NowDep,
    Openings,
    PlansDep,
    SiteZones,
    SourceDep,
    assumptions,
    history_source,
    min_group,
)
from backend.facility.jobs import lifespan
from history.errors import HistoryUnavailable

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/facility", tags=["facility"], lifespan=lifespan)
__all__ = ["history_source", "router"]

Level = Literal["site", "floor", "zone", "kind"]
Format = Literal["json", "csv"]
#: CSV column names of a report key per level.
KEY_COLUMNS = {
    "site": ("site",),
    "floor": ("site", "floor"),
    "zone": ("site", "floor", "zone"),
    "kind": ("site", "kind"),
}


@contextmanager
def _history() -> Iterator[None]:
    """Answer an unreachable history store with a 503 and a reason."""
    try:
        yield
    except HistoryUnavailable as exc:
        # The cause names a file path or a database's own text: for the log, not the client.
        log.warning("history store unavailable: %s", exc)
        raise Unavailable(
            "the history store cannot be read right now; retry later",
            reason="history_unavailable",
        ) from exc


def _flat(row: dict[str, Any], level: str) -> dict[str, Any]:
    """A report row with its key spread over named columns (for CSV and readability)."""
    key = row.pop("key")
    return {**dict(zip(KEY_COLUMNS[level], key, strict=True)), **row}


def _grouped(
    items: Sequence[Any], level: str, k: int, fmt: Format, name: str
) -> dict[str, Any] | Response:
    """Per-group report rows (dataclasses) flattened for ``level``: JSON or CSV."""
    flat = [_flat(asdict(item), level) for item in items]
    if fmt == "csv":
        return csv_response(flat, name)
    return {"level": level, "min_group": k, "rows": flat}


@router.get("/utilisation", response_model=None)
def get_utilisation(
    _: ManagerDep,
    source: SourceDep,
    cfg: ConfigDep,
    site_tz: SiteZones,
    start: date,
    end: date,
    level: Level = "floor",
    min_group_: Annotated[int | None, Query(ge=2, alias="min_group")] = None,
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Share of opening time occupied per group (the daily rollup, summed by the store)."""
    k = min_group(cfg, min_group_)
    with _history():
        rows = reports.utilisation_report(source, site_tz, start, end, level, k)
    return _grouped(rows, level, k, format, "utilisation")


@router.get("/heatmap", response_model=None)
def get_heatmap(
    _: ManagerDep,
    source: SourceDep,
    cfg: ConfigDep,
    openings: Openings,
    start: date,
    end: date,
    level: Level = "floor",
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Mean occupancy per weekday and hour of opening time, per group."""
    k = min_group(cfg)
    with _history():
        cells = reports.heatmap_report(source, openings, start, end, level, k)
    return _grouped(cells, level, k, format, "heatmap")


@router.get("/trend", response_model=None)
def get_trend(
    _: ManagerDep,
    source: SourceDep,
    cfg: ConfigDep,
    openings: Openings,
    start: date,
    end: date,
    level: Level = "floor",
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Utilisation per group and ISO week (floor utilisation over time)."""
    k = min_group(cfg)
    with _history():
        weeks = reports.trend_report(source, openings, start, end, level, k)
    return _grouped(weeks, level, k, format, "trend")


@router.get("/consolidation", response_model=None)
def get_consolidation(
    _: ManagerDep,
    session: SessionDep,
    source: SourceDep,
    cfg: ConfigDep,
    openings: Openings,
    plans: PlansDep,
    now: NowDep,
    start: date,
    end: date,
    level: Literal["floor", "zone"] = "floor",
    threshold: Annotated[float, Query(gt=0, le=1)] = 0.3,
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Floors or zones whose peak occupancy on a weekday stays under ``threshold``.

    Each advice is checked against the week plans of its next weekday.
    """
    with _history():
        days = reports.day_rows(source, openings, start, end)
    body, rows = advice.consolidation_answer(
        session, days, openings, level=level, threshold=threshold, min_group=min_group(cfg),
        assumptions=assumptions(cfg), reader=plans, now=now,
    )  # fmt: skip
    if format == "csv":
        return csv_response(rows, "consolidation")
    return {**body, "advice": rows}


@router.post("/rollup")
def post_rollup(
    _: ManagerDep, source: SourceDep, openings: Openings, start: date, end: date
) -> dict[str, Any]:
    """Roll up the days ``start`` to ``end`` again (after a backfill or a late import)."""
    with _history():
        rolled = reports.rollup_days(source, openings, start, end)
    return {"start": start.isoformat(), "end": end.isoformat(), "rows": rolled}


@router.get("/cleaning", response_model=None)
def get_cleaning(
    _: ManagerDep,
    source: SourceDep,
    session: SessionDep,
    cfg: ConfigDep,
    site_tz: SiteZones,
    now: NowDep,
    day: date | None = None,
    site: str | None = None,
    floor: str | None = None,
    min_minutes: Annotated[float | None, Query(ge=0)] = None,
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Spaces used since their last cleaning on ``day`` (clean them) and not used (skip them).

    Without ``day`` this is today's live list, counted up to now. Each site's
    day runs from its own local midnight (Site.timezone).
    """
    limit = cfg.cleaning_min_minutes if min_minutes is None else min_minutes
    with _history():
        report = cleaning.cleaning_report(
            session, source, site_tz, now=now, day=day, site=site, floor=floor,
            min_minutes=limit, room_min_minutes=cfg.cleaning_room_min_minutes,
        )  # fmt: skip
    entries = [asdict(e) for e in report.entries]
    if format == "csv":
        return csv_response(entries, "cleaning")
    return {
        "day": report.day.isoformat(),
        "live": report.live,
        "min_minutes": limit,
        "room_min_minutes": cfg.cleaning_room_min_minutes,
        "clean": [e for e in entries if e["clean"]],
        "skip": [e for e in entries if not e["clean"]],
    }


@router.post("/cleaning/{space_id}/cleaned", status_code=201)
def mark_cleaned(
    token: ManagerDep, session: SessionDep, now: NowDep, space_id: str
) -> dict[str, Any]:
    """A cleaner taps "cleaned": the space leaves the list until it is used again.

    The mark keeps the role, never the person.
    """
    mark = cleaning.mark_cleaned(session, space_id, token.role, now)
    return {"space": mark.space_id, "cleaned_at": mark.cleaned_at.isoformat()}


@router.get("/booked-vs-used", response_model=None)
def get_booked_vs_used(
    _: ManagerDep,
    session: SessionDep,
    source: SourceDep,
    cfg: ConfigDep,
    site_tz: SiteZones,
    start: date,
    end: date,
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Per site and kind: bookings, check-ins, no-shows, other releases and walk-ins."""
    k, limit = min_group(cfg), cfg.cleaning_min_minutes
    with _history():
        rows = reports.booked_vs_used(
            session, source, site_tz, start, end, used_min_minutes=limit, min_group=k
        )
    out = [asdict(r) for r in rows]
    if format == "csv":
        return csv_response(out, "booked-vs-used")
    return {"min_group": k, "used_min_minutes": limit, "rows": out}


@router.get("/quiet-desks", response_model=None)
def get_quiet_desks(
    _: ManagerDep,
    session: SessionDep,
    cfg: ConfigDep,
    openings: Openings,
    start: date,
    end: date,
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Quiet desks per site against the number booked per open day (average, peak, full days)."""
    k = min_group(cfg)
    out = [asdict(r) for r in reports.quiet_desks(session, openings, start, end, min_group=k)]
    if format == "csv":
        return csv_response(out, "quiet-desks")
    return {"min_group": k, "rows": out}


@router.get("/energy", response_model=None)
def get_energy(
    _: ManagerDep,
    session: SessionDep,
    source: SourceDep,
    cfg: ConfigDep,
    openings: Openings,
    plans: PlansDep,
    now: NowDep,
    day: date | None = None,
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Expected use per zone for ``day`` (default tomorrow), setback advice and kWh saved.

    The answer's ``basis`` lists what the forecast rests on (bookings, history,
    and the week plans when a site's plans pass the privacy floor).
    """
    k, basis = min_group(cfg), assumptions(cfg)
    day = day or forecast.next_day(now, openings)
    with _history():
        made = forecast.day_forecast(
            session, source, openings, day, assumptions=basis, reader=plans, min_group=k
        )
    body, rows = forecast.energy_answer(made, basis, k)
    if format == "csv":
        return csv_response(rows, "energy")
    return body


@router.post("/hvac", response_model=None)
def post_hvac(
    token: ManagerDep,
    session: SessionDep,
    source: SourceDep,
    cfg: ConfigDep,
    openings: Openings,
    plans: PlansDep,
    port: HvacPortDep,
    now: NowDep,
    day: date | None = None,
) -> dict[str, Any]:
    """Send each zone's mode for ``day`` to the building management system over MQTT.

    Dry run unless ``WERKPLEK_HVAC_PUBLISH=true``: the commands are returned,
    marked ``dry_run``, and nothing is published.
    """
    day = day or forecast.next_day(now, openings)
    dry_run = not cfg.hvac_publish
    with _history():
        made = forecast.day_forecast(
            session, source, openings, day, assumptions=assumptions(cfg), reader=plans,
            min_group=min_group(cfg),
        )  # fmt: skip
    sent = hvac.send_commands(made.zones, day, openings, port=port, dry_run=dry_run, now=now)
    log.info("HVAC commands for %s by %s: %d (dry run: %s)", day, token.role, len(sent), dry_run)
    return {"day": day.isoformat(), "dry_run": dry_run, "basis": made.basis, "commands": sent}


@router.get("/no-shows")
def get_no_shows(
    _: ManagerDep, session: SessionDep, cfg: ConfigDep, start: date, end: date
) -> dict[str, Any]:
    """Share of bookings released as no-show per site and kind of space."""
    k = min_group(cfg)
    rows = reports.no_shows(session, start, end, min_group=k)
    return {"min_group": k, "rows": [asdict(r) for r in rows]}
