"""Week plan endpoints: the caller's own plan only (nobody reads another person's plan here)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from backend.auth.models import ApiToken
from backend.dependencies import BookerDep, SessionDep
from backend.errors import NotFound
from backend.plans import desks
from backend.plans import service as plans
from backend.plans.schemas import Pattern, PlaceChoice, Suggestions, Week, WeekAction

router = APIRouter(prefix="/api/v1/plans", tags=["plans"])


def _person(token: ApiToken) -> int:
    if token.user_id is None:
        raise NotFound("this token belongs to no person, so it has no plan", reason="no_user")
    return token.user_id


@router.get("/me", response_model=Week)
def read_my_week(
    session: SessionDep, token: BookerDep, week: Annotated[date | None, Query()] = None
) -> Week:
    """The caller's plan for the week holding ``week`` (default: this week).

    A day with an active desk booking shows the booking's site (``source: booking``).
    """
    return plans.read_week(session, _person(token), week or plans.today())


@router.put("/me/days/{day}", response_model=Week)
def plan_day(day: date, body: PlaceChoice, session: SessionDep, token: BookerDep) -> Week:
    """Plan one day at a site (any kind) or at home."""
    user = _person(token)
    plans.set_day(session, user, day, body)
    return plans.read_week(session, user, day)


@router.delete("/me/days/{day}", response_model=Week)
def clear_day(day: date, session: SessionDep, token: BookerDep) -> Week:
    """Plan nothing for one day."""
    user = _person(token)
    plans.clear_day(session, user, day)
    return plans.read_week(session, user, day)


@router.post("/me/copy-last-week", response_model=Week)
def copy_last_week(body: WeekAction, session: SessionDep, token: BookerDep) -> Week:
    """Copy the week before into ``week``; days already planned stay unless ``overwrite``."""
    user = _person(token)
    plans.copy_last_week(session, user, body.week, overwrite=body.overwrite)
    return plans.read_week(session, user, body.week)


@router.get("/me/pattern", response_model=Pattern)
def read_pattern(session: SessionDep, token: BookerDep) -> Pattern:
    """The caller's default week."""
    return plans.read_pattern(session, _person(token))


@router.put("/me/pattern", response_model=Pattern)
def set_pattern(body: Pattern, session: SessionDep, token: BookerDep) -> Pattern:
    """Replace the caller's default week."""
    return plans.set_pattern(session, _person(token), body)


@router.post("/me/apply-pattern", response_model=Week)
def apply_pattern(body: WeekAction, session: SessionDep, token: BookerDep) -> Week:
    """Fill ``week`` from the default week; days already planned stay unless ``overwrite``."""
    user = _person(token)
    plans.apply_pattern(session, user, body.week, overwrite=body.overwrite)
    return plans.read_week(session, user, body.week)


@router.get("/me/days/{day}/desks", response_model=Suggestions)
def suggest_desks(
    day: date,
    session: SessionDep,
    token: BookerDep,
    near_team: bool = False,
    site_id: Annotated[str | None, Query(min_length=1, max_length=63)] = None,
) -> Suggestions:
    """Desks free all day at the planned site (or ``site_id``), best first.

    With ``near_team`` the zones where colleagues who share their plan booked come
    first, then a team home zone. Book one with ``POST /api/v1/bookings`` (``part: day``).
    """
    return desks.suggest(session, _person(token), day, site_id=site_id, near_team=near_team)
