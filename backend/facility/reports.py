"""The period reports as the API and the benchmark run them: store aggregation, then figures.

Each function checks its period, reads the history store (aggregated inside the
store) and the bookings (SQL in :mod:`backend.facility.queries`), and hands both
to the pure figures of :mod:`service` and :mod:`usage`. A period is a range of
local days; every site's days run from its own local midnight, so a period is
read from the earliest midnight of the sites' zones to the latest.
Store failures surface as ``HistoryUnavailable`` for the router to answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from backend.errors import InvalidInput
from backend.facility import queries, rollup, service, usage
from backend.facility.opening import DEFAULT_TZ, Opening, distinct_zones, span_ms, zones_in_use
from history.facility import DayRow, HistorySource, SiteTimeZones

#: Longest report period: one year and a leap day.
MAX_DAYS = 366
#: Longest period of the per-space reports (booked versus used).
MAX_USAGE_DAYS = 92


def check_period(start: date, end: date) -> None:
    """Refuse a period that ends before it starts or spans more than :data:`MAX_DAYS`."""
    if end < start:
        raise InvalidInput("end lies before start", reason="bad_period")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput(f"a period spans at most {MAX_DAYS} days", reason="bad_period")


def utilisation(
    source: HistorySource,
    start_ms: int,
    end_ms: int,
    level: str,
    min_group: int,
) -> list[service.UtilisationRow]:
    """The utilisation report: opening-time sums per group added up by the store.

    Opening hours and holidays are already in the rollup (per day, per site), so
    the store returns one row per group and the rest is a few additions. The
    peak is a second small aggregation: the highest of the rollup's daily peaks.
    """
    totals = source.group_totals(start_ms, end_ms)
    peaks = source.peaks(start_ms, end_ms, level)
    return service.utilisation(totals, level, min_group=min_group, peaks=peaks)


def utilisation_report(
    source: HistorySource,
    site_tz: Mapping[str, ZoneInfo],
    start: date,
    end: date,
    level: str,
    min_group: int,
) -> list[service.UtilisationRow]:
    """Utilisation per group over the local days ``start`` to ``end`` of every site."""
    check_period(start, end)
    lo, hi = span_ms(start, end, distinct_zones(site_tz.values()))
    return utilisation(source, lo, hi, level, min_group)


def day_rows(
    source: HistorySource, openings: Mapping[str, Opening], start: date, end: date
) -> list[DayRow]:
    """The rollup rows of the period (the local days of every zone in use)."""
    check_period(start, end)
    lo, hi = span_ms(start, end, zones_in_use(openings))
    return source.day_rows(lo, hi)


def heatmap_report(
    source: HistorySource,
    openings: Mapping[str, Opening],
    start: date,
    end: date,
    level: str,
    min_group: int,
) -> list[service.HeatCell]:
    """Mean occupancy per weekday and hour of opening time, per group."""
    days = day_rows(source, openings, start, end)
    return service.heatmap(days, level, openings=openings, min_group=min_group)


def trend_report(
    source: HistorySource,
    openings: Mapping[str, Opening],
    start: date,
    end: date,
    level: str,
    min_group: int,
) -> list[service.WeekRow]:
    """Utilisation per group and ISO week."""
    days = day_rows(source, openings, start, end)
    return service.weekly_trend(days, level, openings=openings, min_group=min_group)


def rollup_days(
    source: HistorySource, openings: Mapping[str, Opening], start: date, end: date
) -> int:
    """Roll up the days ``start`` to ``end`` again; returns the rows written."""
    check_period(start, end)
    rolled = 0
    day = start
    while day <= end:
        rolled += rollup.rollup_day(source, day, openings)
        day += timedelta(days=1)
    return rolled


def booked_vs_used(
    session: Session,
    source: HistorySource,
    site_tz: Mapping[str, ZoneInfo],
    start: date,
    end: date,
    *,
    used_min_minutes: float,
    min_group: int,
) -> list[usage.UsageRow]:
    """Per site and kind: bookings, check-ins, no-shows, other releases and walk-ins."""
    check_period(start, end)
    if (end - start).days >= MAX_USAGE_DAYS:
        raise InvalidInput(f"this report spans at most {MAX_USAGE_DAYS} days", reason="bad_period")
    facts = queries.booking_facts(session, start, end)
    lo, hi = span_ms(start, end, distinct_zones(site_tz.values()))
    zones = SiteTimeZones(DEFAULT_TZ, site_tz)  # each site's walk-ins on its own local days
    used = {
        row
        for row in source.used_space_days(lo, hi, used_min_minutes, zones)
        if start <= row[3] <= end  # the span of several zones reaches into neighbouring days
    }
    return usage.booked_vs_used(facts, used, min_group=min_group)


def quiet_desks(
    session: Session,
    openings: Mapping[str, Opening],
    start: date,
    end: date,
    *,
    min_group: int,
) -> list[usage.QuietRow]:
    """Quiet desks per site against the number booked per open day."""
    check_period(start, end)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    open_days = {
        site: sum(1 for d in days if opening.hours(d.weekday()) > 0 and d not in opening.holidays)
        for site, opening in openings.items()
    }
    supply = queries.quiet_supply(session)
    booked = queries.quiet_booked(session, start, end)
    return usage.quiet_demand(supply, booked, open_days, min_group=min_group)


def no_shows(
    session: Session, start: date, end: date, *, min_group: int
) -> list[service.NoShowRow]:
    """Share of bookings released as no-show per site and kind of space."""
    check_period(start, end)
    return service.no_show_rates(queries.no_show_counts(session, start, end), min_group=min_group)
