"""The energy forecast of a day: bookings, the rollup's history and the week plans per zone.

Gathers the inputs (SQL in :mod:`backend.facility.queries`, history from the
store, plans through :mod:`backend.facility.plans`) and hands them to the pure
:func:`backend.facility.energy.forecast`. Each site counts its own local day
(``Booking.local_day`` and the hours in ``Site.timezone``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from backend.facility import energy, queries
from backend.facility.opening import Opening, for_site, span_ms, zones_in_use
from backend.facility.plans import PlansReader, SitePlans, site_plans
from history.facility import HistorySource

#: The sources a forecast can rest on, in the order the answer lists them.
SOURCES = ("bookings", "history", "plans")


@dataclass(frozen=True, slots=True)
class Forecast:
    """Every zone's forecast for one day and the plans it used."""

    day: date
    zones: list[energy.ZoneForecast]
    plans: dict[str, SitePlans]
    history_weeks: int

    @property
    def basis(self) -> list[str]:
        """The sources this forecast rests on: plans only when a site's plans were usable."""
        used = any(not p.suppressed for p in self.plans.values())
        return [s for s in SOURCES if s != "plans" or used]


def next_day(now: datetime, openings: Mapping[str, Opening]) -> date:
    """Tomorrow of the site whose day starts last, so no site's tomorrow has begun."""
    return min(now.astimezone(tz).date() for tz in zones_in_use(openings)) + timedelta(days=1)


def booked_hours(
    stretches: list[queries.BookedStretch], openings: Mapping[str, Opening], day: date
) -> dict[tuple[energy.ZoneKey, int], int]:
    """Booked spaces per zone and local hour of the site's ``day``."""
    booked: dict[tuple[energy.ZoneKey, int], int] = defaultdict(int)
    for stretch in stretches:
        tz = for_site(openings, stretch.zone[0]).tz  # booked hours in the site's own time
        first, last = stretch.start_at.astimezone(tz), stretch.end_at.astimezone(tz)
        for hour in range(24):
            lo = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
            if first < lo + timedelta(hours=1) and lo < last:
                booked[(stretch.zone, hour)] += 1
    return booked


def day_forecast(
    session: Session,
    source: HistorySource,
    openings: Mapping[str, Opening],
    day: date,
    *,
    assumptions: energy.Assumptions,
    reader: PlansReader,
    min_group: int,
) -> Forecast:
    """Gather zones, bookings, history and plans for ``day`` and forecast every zone.

    Raises ``HistoryUnavailable`` when the history store cannot be read.
    """
    zones = queries.zone_sizes(session)
    booked = booked_hours(queries.booked_stretches(session, day), openings, day)
    weeks = assumptions.history_weeks
    since, until = span_ms(day - timedelta(weeks=weeks), day - timedelta(days=1),
                           zones_in_use(openings))  # fmt: skip
    history = energy.history_profile(source.day_rows(since, until), day.weekday())
    plans = site_plans(session, reader, {z[0] for z in zones}, day, min_group)
    unbooked = {site: p.unbooked for site, p in plans.items() if not p.suppressed}
    shares = energy.plan_shares(zones, unbooked)
    made = energy.forecast(day, zones, booked, history, openings, assumptions, shares)
    return Forecast(day, made, plans, weeks)


def basis_text(forecast: Forecast, min_group: int) -> dict[str, str]:
    """One sentence per language on what the forecast rests on, with the suppression rule."""
    weeks = forecast.history_weeks
    nl = (
        "Verwacht gebruik per zone is het hoogste van: de geboekte plekken, het gemiddelde "
        f"van dezelfde weekdag in de afgelopen {weeks} weken"
    )
    en = (
        "Expected use per zone is the highest of: the booked spaces, the average of the "
        f"same weekday over the past {weeks} weeks"
    )
    if "plans" in forecast.basis:
        nl += (
            " en de weekplanning (mensen die die dag op de locatie plannen zonder geboekte "
            "plek, verdeeld over de zones)."
        )
        en += (
            " and the week plans (people planning to work at the site that day without a "
            "booked desk, spread over its zones)."
        )
    else:
        nl += "; er zijn geen bruikbare weekplanningen voor deze dag."
        en += "; there are no usable week plans for this day."
    nl += (
        f" Een weekplanning telt alleen mee als minstens {min_group} mensen die locatie "
        "plannen; kleinere aantallen worden niet gebruikt en niet getoond."
    )
    en += (
        f" A site's week plans count only when at least {min_group} people plan it; smaller "
        "numbers are neither used nor shown."
    )
    return {"nl": nl, "en": en}


def energy_answer(
    forecast: Forecast, assumptions: energy.Assumptions, min_group: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The JSON body of the energy report and its zone rows (the CSV lines)."""
    rows = []
    for z in forecast.zones:
        row = asdict(z)
        if z.spaces < min_group:  # a handful of spaces could point at a person's booking
            row["booked_peak"] = row["expected_peak"] = row["planned_share"] = None
        rows.append(row)
    floors: dict[tuple[str, str], list[energy.ZoneForecast]] = defaultdict(list)
    for z in forecast.zones:
        floors[(z.site, z.floor)].append(z)
    body = {
        "day": forecast.day.isoformat(),
        "assumptions": asdict(assumptions),
        "basis": forecast.basis,
        "basis_text": basis_text(forecast, min_group),
        "min_group": min_group,
        "plans": [p.public(min_group) for _, p in sorted(forecast.plans.items())],
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
        ],
        "kwh_saved": round(sum(z.kwh_saved for z in forecast.zones), 2),
    }
    return body, rows
