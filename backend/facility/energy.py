"""Energy: a day's expected use per zone and setback advice (pure figures, no I/O).

The forecast is deliberately simple and explainable: for every open hour of the
day, the expected occupied share of a zone is the largest of

* the share of its spaces booked in that hour,
* the mean occupied share in that weekday-hour over the past weeks (the rollup), and
* the week plans' share: people who plan to work at the site that day without a
  desk booking yet, spread over the site's zoned spaces (they sit somewhere; the
  plans do not say where). A site's plans count only when at least the reports'
  ``min_group`` people plan it (:mod:`backend.facility.plans`).

A zone whose expected peak stays under ``setback_below`` and that has no
booking at all can go to setback for the whole open day. The saving is an
estimate from configurable assumptions (kW per zone in comfort mode, the
share of it setback saves), which every answer repeats. The HVAC command a
zone's mode becomes is the contract's (:mod:`contract.hvac`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from backend.facility.opening import Opening, for_site
from history.facility import HOURS, DayRow

#: (site, floor, zone)
ZoneKey = tuple[str, str, str]
#: Where a zone's expected peak came from (``none``: nothing expected at all).
BASES = ("bookings", "history", "plans", "none")


@dataclass(frozen=True, slots=True)
class Assumptions:
    """What the kWh figures rest on; shown with every energy answer."""

    kw_per_zone: float
    setback_saving: float
    setback_below: float
    history_weeks: int


@dataclass(frozen=True, slots=True)
class ZoneForecast:
    """Tomorrow (or any day) for one zone: expected peak, bookings, and the advised mode."""

    site: str
    floor: str
    zone: str
    spaces: int
    booked_peak: int
    expected_peak: float | None
    open_hours: float
    mode: str
    reason: str
    setback_hours: float
    kwh_saved: float
    #: The week plans' expected share of the zone (None: no usable plans for its site).
    planned_share: float | None = None
    #: Which source gave ``expected_peak``: bookings, history, plans or none.
    expected_from: str = "none"


def history_profile(days: Iterable[DayRow], weekday: int) -> dict[tuple[ZoneKey, int], float]:
    """Mean occupied share per zone and hour on ``weekday`` from past rollup rows."""
    occ: dict[tuple[ZoneKey, int], float] = defaultdict(float)
    cnt: dict[tuple[ZoneKey, int], int] = defaultdict(int)
    for row in days:
        if row.weekday != weekday:
            continue
        zone = (row.group[0], row.group[1], row.group[2])
        for hour in range(HOURS):
            occ[(zone, hour)] += row.occupancy[hour]
            cnt[(zone, hour)] += row.samples[hour]
    return {key: occ[key] / cnt[key] for key in occ if cnt[key]}


def plan_shares(zones: Mapping[ZoneKey, int], unbooked: Mapping[str, int]) -> dict[ZoneKey, float]:
    """Per zone: a site's planned people without a desk booking over the site's zoned spaces.

    ``unbooked`` holds only sites whose plans may be used (not suppressed).
    """
    per_site: dict[str, int] = defaultdict(int)
    for (site, _, _), n in zones.items():
        per_site[site] += n
    return {
        key: min(1.0, unbooked[key[0]] / per_site[key[0]])
        for key in zones
        if key[0] in unbooked and per_site[key[0]]
    }


def _expected(
    key: ZoneKey,
    spaces: int,
    hours: list[int],
    booked: Mapping[tuple[ZoneKey, int], int],
    history: Mapping[tuple[ZoneKey, int], float],
    planned: float,
) -> tuple[float, str]:
    """The zone's expected peak over ``hours`` and the source that gave it."""
    best, basis = 0.0, "none"
    for hour in hours:
        for value, source in (
            (booked.get((key, hour), 0) / max(spaces, 1), "bookings"),
            (history.get((key, hour), 0.0), "history"),
            (planned, "plans"),
        ):
            if value > best:
                best, basis = value, source
    return best, basis


def forecast(
    day: date,
    zones: Mapping[ZoneKey, int],
    booked: Mapping[tuple[ZoneKey, int], int],
    history: Mapping[tuple[ZoneKey, int], float],
    openings: Mapping[str, Opening],
    assumptions: Assumptions,
    planned: Mapping[ZoneKey, float] | None = None,
) -> list[ZoneForecast]:
    """Forecast and mode per zone; ``booked`` counts booked spaces per zone and local hour.

    ``planned`` is the week plans' share per zone (:func:`plan_shares`), for the
    open hours of the day.
    """
    plans = planned or {}
    out = []
    for key in sorted(zones):
        site, floor, zone = key
        spaces = zones[key]
        opening = for_site(openings, site)
        closed = day in opening.holidays
        hours = [h for h in range(HOURS) if not closed and opening.weight(day.weekday(), h) > 0]
        open_hours = 0.0 if closed else opening.hours(day.weekday())
        booked_peak = max((booked.get((key, h), 0) for h in hours), default=0)
        share = plans.get(key)
        expected, basis = _expected(key, spaces, hours, booked, history, share or 0.0)
        if not hours:
            mode, reason = "setback", "closed"
        elif booked_peak == 0 and expected < assumptions.setback_below:
            mode, reason = "setback", "nobody_expected"
        else:
            mode, reason = "comfort", "bookings" if booked_peak else "expected_use"
        setback_hours = open_hours if mode == "setback" and hours else 0.0
        kwh = setback_hours * assumptions.kw_per_zone * assumptions.setback_saving
        out.append(
            ZoneForecast(
                site, floor, zone, spaces, booked_peak, expected, open_hours, mode, reason,
                setback_hours, round(kwh, 2), share, basis,
            )
        )  # fmt: skip
    return out
