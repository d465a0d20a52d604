"""Consolidation advice with its energy figure, checked against the coming week's plans.

The advice itself is history's (:func:`backend.facility.service.consolidation`:
a floor or zone whose peak on a weekday stays under the threshold). For the next
such weekday of each site, the week plans say whether it still holds: nobody has
booked a desk on that floor, and the people planning to come fit in the site's
other spaces. Plans of fewer than ``min_group`` people are suppressed: then the
check says so and uses nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from backend.facility import energy, service
from backend.facility.opening import Opening, for_site
from backend.facility.plans import PlansReader, SitePlans, site_plans
from history.facility import DayRow

#: What the plans say about an advice on its next day.
CHECKS = ("holds", "desks_booked_here", "no_room_elsewhere", "too_few_plans")
_NOTE = {
    "holds": (
        "Volgens de weekplanning kan dit op {day}: {people} mensen gepland, er is elders plek.",
        "The week plans allow it on {day}: {people} people planned, there is room elsewhere.",
    ),
    "desks_booked_here": (
        "Let op: op {day} zijn hier al bureaus geboekt.",
        "Note: desks are already booked here on {day}.",
    ),
    "no_room_elsewhere": (
        "Let op: op {day} plannen {people} mensen te komen; "
        "dat past niet in de rest van de locatie.",
        "Note: {people} people plan to come on {day}; they do not fit in the rest of the site.",
    ),
    "too_few_plans": (
        "Te weinig weekplanningen voor {day} om mee te wegen (minder dan {k} mensen).",
        "Too few week plans for {day} to weigh in (fewer than {k} people).",
    ),
}


def next_weekday(today: date, weekday: int) -> date:
    """The first day after ``today`` that falls on ``weekday``."""
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def plan_check(
    advice: service.Advice, plans: SitePlans, spaces: Mapping[tuple[str, ...], int]
) -> str:
    """One of :data:`CHECKS` for an advice on its plans' day."""
    if plans.suppressed or plans.people is None:
        return "too_few_plans"
    if plans.by_floor.get(advice.key[1], 0) > 0:
        return "desks_booked_here"
    elsewhere = spaces.get((advice.key[0],), 0) - advice.spaces
    return "holds" if plans.people <= elsewhere else "no_room_elsewhere"


def consolidation_answer(
    session: Session,
    days: list[DayRow],
    openings: Mapping[str, Opening],
    *,
    level: str,
    threshold: float,
    min_group: int,
    assumptions: energy.Assumptions,
    reader: PlansReader,
    now: datetime,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The consolidation body and its advice rows (the CSV lines)."""
    advice = service.consolidation(
        days, level, openings=openings, min_group=min_group, threshold=threshold
    )
    zones: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for day_row in days:
        zones[service.level_key(day_row.group, level)].add(day_row.group[2])
    site_spaces = service.group_sizes(days, "site")
    cache: dict[tuple[str, date], SitePlans] = {}
    rows = []
    for a in advice:
        site = a.key[0]
        today = now.astimezone(for_site(openings, site).tz).date()
        plan_day = next_weekday(today, a.weekday)
        if (site, plan_day) not in cache:
            cache[(site, plan_day)] = site_plans(session, reader, [site], plan_day, min_group)[site]
        plans = cache[(site, plan_day)]
        check = plan_check(a, plans, site_spaces)
        nl, en = _NOTE[check]
        words = {"day": plan_day.isoformat(), "people": plans.people, "k": min_group}
        row = asdict(a)
        key = row.pop("key")
        row = {**dict(zip(("site", "floor", "zone")[: len(key)], key, strict=True)), **row}
        row["zones"] = len(zones[a.key])
        # per week: the advice holds for one weekday
        row["kwh_saved_per_week"] = round(
            a.setback_hours * len(zones[a.key]) * assumptions.kw_per_zone
            * assumptions.setback_saving, 2,
        )  # fmt: skip
        row["plan_day"] = plan_day.isoformat()
        row["planned_people"] = plans.people
        row["plan_check"] = check
        row["plan_nl"], row["plan_en"] = nl.format(**words), en.format(**words)
        rows.append(row)
    body = {
        "level": level,
        "threshold": threshold,
        "assumptions": asdict(assumptions),
        "basis": ["history", "plans"],
        "min_group": min_group,
    }
    return body, rows
