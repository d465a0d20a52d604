"""Energy: tomorrow's expected use per zone, setback advice, and the HVAC command per zone.

The forecast is deliberately simple and explainable: for every open hour of the
day, the expected occupied share of a zone is the larger of

* the share of its spaces booked in that hour, and
* the mean occupied share in that weekday-hour over the past weeks (the rollup).

A zone whose expected peak stays under ``setback_below`` and that has no
booking at all can go to setback for the whole open day. The saving is an
estimate from configurable assumptions (kW per zone in comfort mode, the
share of it setback saves), which every answer repeats.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from backend.facility.opening import Opening, for_site
from backend.facility.rollup import TZ
from backend.facility.sources import HOURS, DayRow

#: (site, floor, zone)
ZoneKey = tuple[str, str, str]
HVAC_VERSION = 1


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


def forecast(
    day: date,
    zones: Mapping[ZoneKey, int],
    booked: Mapping[tuple[ZoneKey, int], int],
    history: Mapping[tuple[ZoneKey, int], float],
    openings: Mapping[str, Opening],
    assumptions: Assumptions,
) -> list[ZoneForecast]:
    """Forecast and mode per zone; ``booked`` counts booked spaces per zone and local hour."""
    out = []
    for key in sorted(zones):
        site, floor, zone = key
        spaces = zones[key]
        opening = for_site(openings, site)
        closed = day in opening.holidays
        hours = [h for h in range(HOURS) if not closed and opening.weight(day.weekday(), h) > 0]
        open_hours = 0.0 if closed else opening.hours(day.weekday())
        booked_peak = max((booked.get((key, h), 0) for h in hours), default=0)
        expected = max(
            (max(booked.get((key, h), 0) / max(spaces, 1), history.get((key, h), 0.0))
             for h in hours),
            default=0.0,
        )  # fmt: skip
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
                setback_hours, round(kwh, 2),
            )
        )  # fmt: skip
    return out


def hvac_topic(site: str, floor: str, zone: str) -> str:
    """``werkplek/v1/<site>/_zone/<floor>/<zone>/hvac`` (see docs/hvac-contract.md)."""
    for part in (site, floor, zone):
        if not part or any(c in part for c in "/+#"):
            raise ValueError(f"{part!r} cannot be part of an MQTT topic")
    return f"werkplek/v1/{site}/_zone/{floor}/{zone}/hvac"


def hvac_command(
    item: ZoneForecast, day: date, *, dry_run: bool, now: datetime, tz: ZoneInfo = TZ
) -> bytes:
    """The retained JSON command for one zone and day (schema ``v`` 1).

    ``tz`` is the site's own zone: the day it is valid for is the site's local day.
    """
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    body = {
        "v": HVAC_VERSION,
        "site": item.site,
        "floor": item.floor,
        "zone": item.zone,
        "mode": item.mode,
        "reason": item.reason,
        "valid_from": start.isoformat(),
        "valid_until": (start + timedelta(days=1)).isoformat(),
        "issued_at": now.astimezone(tz).isoformat(timespec="seconds"),
        "dry_run": dry_run,
    }
    return json.dumps(body, separators=(",", ":")).encode()
