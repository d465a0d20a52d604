"""Facility API: utilisation, cleaning list, no-show rate, consolidation advice.

Only the facility and admin roles may read it; every figure is per group of spaces.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.bookings.models import Booking
from backend.dependencies import ManagerDep, SessionDep
from backend.errors import InvalidInput, NotFound, Unavailable
from backend.facility import energy, reports, rollup, service, usage
from backend.facility.csv_export import csv_response
from backend.facility.jobs import lifespan
from backend.facility.models import CleaningMark
from backend.facility.opening import (
    Opening,
    distinct_zones,
    for_site,
    site_openings,
    span_ms,
    zone_of,
    zones_in_use,
)
from backend.facility.settings import facility_settings, open_source
from backend.facility.sources import DayRow, HistorySource
from backend.spaces.models import Site, Space
from history.errors import HistoryUnavailable

log = logging.getLogger(__name__)

#: Longest report period: one year and a leap day.
MAX_DAYS = 366

router = APIRouter(prefix="/api/v1/facility", tags=["facility"], lifespan=lifespan)
__all__ = ["facility_settings", "history_source", "router"]


def history_source() -> Iterator[HistorySource]:
    """The configured history store for one request."""
    source = open_source()
    try:
        yield source
    finally:
        source.close()


SourceDep = Annotated[HistorySource, Depends(history_source)]
Level = Literal["site", "floor", "zone", "kind"]


def _span(start: date, end: date, tzs: Sequence[ZoneInfo] = (service.TZ,)) -> tuple[int, int]:
    """Epoch ms of local midnight of ``start`` and of the day after ``end``.

    With several zones (sites abroad) the span reaches from the earliest
    midnight to the latest, so every site's own days are in it.
    """
    if end < start:
        raise InvalidInput("end lies before start", reason="bad_period")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput(f"a period spans at most {MAX_DAYS} days", reason="bad_period")
    return span_ms(start, end, tzs)


def _day_rows(
    source: HistorySource, openings: dict[str, Opening], start: date, end: date
) -> list[DayRow]:
    """The rollup rows of the period (local days of every zone in use); 503 when unreachable."""
    lo, hi = _span(start, end, zones_in_use(openings))
    try:
        return source.day_rows(lo, hi)
    except HistoryUnavailable as exc:
        raise _unavailable(exc) from exc


def _unavailable(exc: HistoryUnavailable) -> Unavailable:
    # The cause names a file path or a database's own text: for the log, not the client.
    log.warning("history store unavailable: %s", exc)
    return Unavailable(
        "the history store cannot be read right now; retry later", reason="history_unavailable"
    )


def _min_group(requested: int | None) -> int:
    """The caller may raise the privacy floor, never lower it."""
    floor = facility_settings().facility_min_group
    return max(floor, requested or floor)


def openings_of(session: SessionDep) -> dict[str, Opening]:
    """Every site's opening hours and holidays from the bookings domain."""
    return site_openings(session)


def site_zones(session: SessionDep) -> dict[str, ZoneInfo]:
    """Every site's own time zone (one cheap query; the reports need no more)."""
    return {
        str(site): zone_of(name, str(site))
        for site, name in session.execute(select(Site.id, Site.timezone)).all()
    }


Openings = Annotated[dict[str, Opening], Depends(openings_of)]
SiteZones = Annotated[dict[str, ZoneInfo], Depends(site_zones)]


Format = Literal["json", "csv"]
#: CSV column names of a report key per level.
KEY_COLUMNS = {
    "site": ("site",),
    "floor": ("site", "floor"),
    "zone": ("site", "floor", "zone"),
    "kind": ("site", "kind"),
}


def _flat(row: dict[str, Any], level: str) -> dict[str, Any]:
    """A report row with its key spread over named columns (for CSV and readability)."""
    key = row.pop("key")
    return {**dict(zip(KEY_COLUMNS[level], key, strict=True)), **row}


def _answer(
    body: dict[str, Any], rows: list[dict[str, Any]], fmt: Format, name: str
) -> dict[str, Any] | Response:
    """JSON with the rows under ``rows``, or CSV with a header row."""
    if fmt == "json":
        return {**body, "rows": rows}
    return csv_response(rows, name)


def _grouped(
    items: Sequence[Any], level: str, k: int, fmt: Format, name: str
) -> dict[str, Any] | Response:
    """Answer per-group report rows (dataclasses) flattened for ``level``."""
    flat = [_flat(asdict(item), level) for item in items]
    return _answer({"level": level, "min_group": k}, flat, fmt, name)


@router.get("/utilisation", response_model=None)
def get_utilisation(
    _: ManagerDep,
    source: SourceDep,
    site_tz: SiteZones,
    start: date,
    end: date,
    level: Level = "floor",
    min_group: Annotated[int | None, Query(ge=2)] = None,
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Share of opening time occupied per group (the daily rollup, summed by the store)."""
    lo, hi = _span(start, end, distinct_zones(site_tz.values()))
    k = _min_group(min_group)
    try:
        rows = reports.utilisation(source, lo, hi, level, k)
    except HistoryUnavailable as exc:
        raise _unavailable(exc) from exc
    return _grouped(rows, level, k, format, "utilisation")


@router.get("/heatmap", response_model=None)
def get_heatmap(
    _: ManagerDep,
    source: SourceDep,
    openings: Openings,
    start: date,
    end: date,
    level: Level = "floor",
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Mean occupancy per weekday and hour of opening time, per group."""
    days = _day_rows(source, openings, start, end)
    k = _min_group(None)
    cells = service.heatmap(days, level, openings=openings, min_group=k)
    return _grouped(cells, level, k, format, "heatmap")


@router.get("/trend", response_model=None)
def get_trend(
    _: ManagerDep,
    source: SourceDep,
    openings: Openings,
    start: date,
    end: date,
    level: Level = "floor",
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Utilisation per group and ISO week (floor utilisation over time)."""
    days = _day_rows(source, openings, start, end)
    k = _min_group(None)
    weeks = service.weekly_trend(days, level, openings=openings, min_group=k)
    return _grouped(weeks, level, k, format, "trend")


@router.get("/consolidation", response_model=None)
def get_consolidation(
    _: ManagerDep,
    source: SourceDep,
    openings: Openings,
    start: date,
    end: date,
    level: Literal["floor", "zone"] = "floor",
    threshold: Annotated[float, Query(gt=0, le=1)] = 0.3,
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Floors or zones whose peak occupancy on a weekday stays under ``threshold``."""
    days = _day_rows(source, openings, start, end)
    advice = service.consolidation(
        days, level, openings=openings, min_group=_min_group(None), threshold=threshold
    )
    assumptions = _assumptions()
    zones: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for day_row in days:
        zones[service.level_key(day_row.group, level)].add(day_row.group[2])
    flat = []
    for a in advice:
        row = _flat(asdict(a), level)
        row["zones"] = len(zones[a.key])
        # per week: the advice holds for one weekday
        row["kwh_saved_per_week"] = round(
            a.setback_hours * len(zones[a.key]) * assumptions.kw_per_zone
            * assumptions.setback_saving, 2,
        )  # fmt: skip
        flat.append(row)
    body = {"level": level, "threshold": threshold, "assumptions": asdict(assumptions)}
    if format == "csv":
        return csv_response(flat, "consolidation")
    return {**body, "advice": flat}


@router.post("/rollup")
def post_rollup(
    _: ManagerDep,
    source: SourceDep,
    openings: Openings,
    start: date,
    end: date,
) -> dict[str, Any]:
    """Roll up the days ``start`` to ``end`` again (after a backfill or a late import)."""
    _span(start, end, zones_in_use(openings))
    rolled = 0
    try:
        day = start
        while day <= end:
            rolled += rollup.rollup_day(source, day, openings)
            day += timedelta(days=1)
    except HistoryUnavailable as exc:
        raise _unavailable(exc) from exc
    return {"start": start.isoformat(), "end": end.isoformat(), "rows": rolled}


def _last_marks(session: Session, start_ms: int, end_ms: int) -> dict[str, int]:
    """Each space's last cleaning mark in ``[start, end)`` as epoch ms."""
    lo = datetime.fromtimestamp(start_ms / 1000, UTC)
    hi = datetime.fromtimestamp(end_ms / 1000, UTC)
    rows = session.execute(
        select(CleaningMark.space_id, func.max(CleaningMark.cleaned_at))
        .where(CleaningMark.cleaned_at >= lo, CleaningMark.cleaned_at < hi)
        .group_by(CleaningMark.space_id)
    ).all()
    return {str(space): int(moment.timestamp() * 1000) for space, moment in rows}


@router.get("/cleaning", response_model=None)
def get_cleaning(
    _: ManagerDep,
    source: SourceDep,
    session: SessionDep,
    site_tz: SiteZones,
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
    cfg = facility_settings()
    limit = cfg.cleaning_min_minutes if min_minutes is None else min_minutes
    everywhere = distinct_zones(site_tz.values())
    wanted = [site_tz.get(site, service.TZ)] if site is not None else everywhere
    now = datetime.now(UTC)
    today = now.astimezone(wanted[0] if site is not None else service.TZ).date()
    entries: list[service.CleaningEntry] = []
    for tz in wanted:
        local_day = day or now.astimezone(tz).date()
        lo, hi = _span(local_day, local_day, (tz,))
        end = min(hi, int(now.timestamp() * 1000))
        try:
            points = source.raw_points(lo, hi)
        except HistoryUnavailable as exc:
            raise _unavailable(exc) from exc
        mine = [p for p in points if site_tz.get(p.site, service.TZ).key == tz.key]
        entries += service.cleaning_list(
            mine, lo, end, min_minutes=limit, room_min_minutes=cfg.cleaning_room_min_minutes,
            cleaned=_last_marks(session, lo, end),
        )  # fmt: skip
    entries = [
        e for e in entries
        if (site is None or e.site == site) and (floor is None or e.floor == floor)
    ]  # fmt: skip
    if format == "csv":
        return csv_response([asdict(e) for e in entries], "cleaning")
    return {
        "day": (day or today).isoformat(),
        "live": day is None or day == today,
        "min_minutes": limit,
        "room_min_minutes": cfg.cleaning_room_min_minutes,
        "clean": [asdict(e) for e in entries if e.clean],
        "skip": [asdict(e) for e in entries if not e.clean],
    }


@router.post("/cleaning/{space_id}/cleaned", status_code=201)
def mark_cleaned(token: ManagerDep, session: SessionDep, space_id: str) -> dict[str, Any]:
    """A cleaner taps "cleaned": the space leaves the list until it is used again.

    The mark keeps the role, never the person.
    """
    space = session.get(Space, space_id)
    if space is None:
        raise NotFound(f"no space {space_id!r}", reason="space_not_found")
    mark = CleaningMark(
        space_id=space.id, site_id=space.site_id, cleaned_at=datetime.now(UTC), role=token.role
    )
    session.add(mark)
    session.commit()
    return {"space": space.id, "cleaned_at": mark.cleaned_at.isoformat()}


#: Longest period of the per-space reports (booked versus used).
MAX_USAGE_DAYS = 92


@router.get("/booked-vs-used", response_model=None)
def get_booked_vs_used(
    _: ManagerDep,
    session: SessionDep,
    source: SourceDep,
    start: date,
    end: date,
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Per site and kind: bookings, check-ins, no-shows, other releases and walk-ins."""
    lo, hi = _span(start, end)
    if (end - start).days >= MAX_USAGE_DAYS:
        raise InvalidInput(f"this report spans at most {MAX_USAGE_DAYS} days", reason="bad_period")
    rows = session.execute(
        select(
            Booking.site_id, Booking.space_kind, Booking.space_id, Booking.local_day,
            Booking.status, Booking.end_reason, Booking.checked_in_at,
        )
        .where(Booking.status != "cancelled")
        .where(Booking.local_day >= start, Booking.local_day <= end)
    ).all()  # fmt: skip
    facts = [
        usage.BookingFact(
            site=str(r[0]), kind=str(r[1]), space=str(r[2]), day=r[3],
            checked_in=r[4] == "checked_in" or r[6] is not None,
            no_show=r[4] == "released" and r[5] == "no_show", released=r[4] == "released",
        )
        for r in rows
    ]  # fmt: skip
    limit = facility_settings().cleaning_min_minutes
    try:
        used = source.used_space_days(lo, hi, limit)
    except HistoryUnavailable as exc:
        raise _unavailable(exc) from exc
    k = _min_group(None)
    out = [asdict(r) for r in usage.booked_vs_used(facts, used, min_group=k)]
    if format == "csv":
        return csv_response(out, "booked-vs-used")
    return {"min_group": k, "used_min_minutes": limit, "rows": out}


@router.get("/quiet-desks", response_model=None)
def get_quiet_desks(
    _: ManagerDep,
    session: SessionDep,
    openings: Openings,
    start: date,
    end: date,
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Quiet desks per site against the number booked per open day (average, peak, full days)."""
    _span(start, end)
    supply = {
        str(site): int(n)
        for site, n in session.execute(
            select(Space.site_id, func.count())
            .where(Space.kind == "desk", Space.quiet.is_(True))
            .group_by(Space.site_id)
        ).all()
    }
    booked = {
        (str(site), day): int(n)
        for site, day, n in session.execute(
            select(Booking.site_id, Booking.local_day, func.count())
            .join(Space, Space.id == Booking.space_id)
            .where(Space.kind == "desk", Space.quiet.is_(True), Booking.status != "cancelled")
            .where(Booking.local_day >= start, Booking.local_day <= end)
            .group_by(Booking.site_id, Booking.local_day)
        ).all()
    }
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    open_days = {
        site: sum(1 for d in days if opening.hours(d.weekday()) > 0 and d not in opening.holidays)
        for site, opening in openings.items()
    }
    k = _min_group(None)
    out = [asdict(r) for r in usage.quiet_demand(supply, booked, open_days, min_group=k)]
    if format == "csv":
        return csv_response(out, "quiet-desks")
    return {"min_group": k, "rows": out}


def _assumptions() -> energy.Assumptions:
    cfg = facility_settings()
    return energy.Assumptions(
        kw_per_zone=cfg.energy_kw_per_zone,
        setback_saving=cfg.energy_setback_saving,
        setback_below=cfg.energy_setback_below,
        history_weeks=cfg.energy_history_weeks,
    )


def _forecast(
    session: Session, source: HistorySource, openings: dict[str, Opening], day: date
) -> list[energy.ZoneForecast]:
    """Gather zones, bookings and history for ``day`` and forecast every zone."""
    zones = {
        (str(site), str(floor), str(zone)): int(n)
        for site, floor, zone, n in session.execute(
            select(Space.site_id, Space.floor_id, Space.zone, func.count())
            .where(Space.zone.is_not(None))
            .group_by(Space.site_id, Space.floor_id, Space.zone)
        ).all()
    }
    booked: dict[tuple[energy.ZoneKey, int], int] = defaultdict(int)
    rows = session.execute(
        select(Space.site_id, Space.floor_id, Space.zone, Booking.start_at, Booking.end_at)
        .join(Space, Space.id == Booking.space_id)
        .where(Booking.local_day == day, Booking.status.in_(("booked", "checked_in")))
    ).all()
    for site, floor, zone, start_at, end_at in rows:
        tz = for_site(openings, str(site)).tz  # booked hours in the site's own local time
        first = start_at.astimezone(tz)
        last = end_at.astimezone(tz)
        for hour in range(24):
            lo = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
            if first < lo + timedelta(hours=1) and lo < last:
                booked[((str(site), str(floor), str(zone)), hour)] += 1
    weeks = facility_settings().energy_history_weeks
    back = day - timedelta(weeks=weeks)
    since, until = _span(back, day - timedelta(days=1), zones_in_use(openings))
    try:
        history = energy.history_profile(source.day_rows(since, until), day.weekday())
    except HistoryUnavailable as exc:
        raise _unavailable(exc) from exc
    return energy.forecast(day, zones, booked, history, openings, _assumptions())


def _tomorrow() -> date:
    return datetime.now(service.TZ).date() + timedelta(days=1)


@router.get("/energy", response_model=None)
def get_energy(
    _: ManagerDep,
    session: SessionDep,
    source: SourceDep,
    openings: Openings,
    day: date | None = None,
    format: Format = "json",
) -> dict[str, Any] | Response:
    """Expected use per zone for ``day`` (default tomorrow), setback advice and kWh saved."""
    day = day or _tomorrow()
    zones = _forecast(session, source, openings, day)
    k = _min_group(None)
    rows = []
    for z in zones:
        row = asdict(z)
        if z.spaces < k:  # a handful of spaces could point at a person's booking
            row["booked_peak"] = row["expected_peak"] = None
        rows.append(row)
    if format == "csv":
        return csv_response(rows, "energy")
    floors: dict[tuple[str, str], list[energy.ZoneForecast]] = defaultdict(list)
    for z in zones:
        floors[(z.site, z.floor)].append(z)
    return {
        "day": day.isoformat(),
        "assumptions": asdict(_assumptions()),
        "zones": rows,
        "floors": [
            {
                "site": site,
                "floor": floor,
                "zones": len(items),
                "setback_zones": sum(z.mode == "setback" for z in items),
                "whole_floor_setback": all(z.mode == "setback" for z in items),
                "kwh_saved": round(sum(z.kwh_saved for z in items), 2),
            }
            for (site, floor), items in sorted(floors.items())
        ],  # fmt: skip
        "kwh_saved": round(sum(z.kwh_saved for z in zones), 2),
    }


@router.post("/hvac", response_model=None)
def post_hvac(
    token: ManagerDep,
    request: Request,
    session: SessionDep,
    source: SourceDep,
    openings: Openings,
    day: date | None = None,
) -> dict[str, Any]:
    """Send each zone's mode for ``day`` to the building management system over MQTT.

    Dry run unless ``WERKPLEK_HVAC_PUBLISH=true``: the commands are returned,
    marked ``dry_run``, and nothing is published.
    """
    day = day or _tomorrow()
    dry_run = not facility_settings().hvac_publish
    bridge = getattr(request.app.state.runtime, "bridge", None)
    if not dry_run and bridge is None:
        raise Unavailable("no MQTT connection to publish on", reason="mqtt_unavailable")
    now = datetime.now(UTC)
    sent = []
    for zone in _forecast(session, source, openings, day):
        try:
            topic = energy.hvac_topic(zone.site, zone.floor, zone.zone)
        except ValueError as exc:
            log.warning("zone left out of HVAC commands: %s", exc)
            continue
        payload = energy.hvac_command(
            zone, day, dry_run=dry_run, now=now, tz=for_site(openings, zone.site).tz
        )
        published = bridge is not None and not dry_run and bridge.publish(topic, payload, True)
        sent.append({"topic": topic, "payload": json.loads(payload), "published": published})
    log.info("HVAC commands for %s by %s: %d (dry run: %s)", day, token.role, len(sent), dry_run)
    return {"day": day.isoformat(), "dry_run": dry_run, "commands": sent}


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
