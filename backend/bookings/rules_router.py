"""Site rule endpoints: booking policy, opening hours and holidays (facility and admin)."""

from __future__ import annotations

from fastapi import APIRouter

from backend.bookings import policy
from backend.bookings.schemas import HolidayPublic, OpeningDay, PolicyPublic
from backend.bookings.service import actor_of
from backend.dependencies import ManagerDep, ReaderDep, SessionDep
from backend.spaces import service as spaces

router = APIRouter(prefix="/api/v1/sites/{site_id}", tags=["site rules"])


@router.get("/policy", response_model=PolicyPublic)
def read_policy(site_id: str, session: SessionDep, _token: ReaderDep) -> PolicyPublic:
    """Return the booking rules of a site."""
    spaces.get_site(session, site_id)
    return PolicyPublic.model_validate(policy.get_policy(session, site_id))


@router.put("/policy", response_model=PolicyPublic)
def update_policy(
    site_id: str, body: PolicyPublic, session: SessionDep, token: ManagerDep
) -> PolicyPublic:
    """Change the booking rules of a site (grace periods, how far ahead, ...)."""
    spaces.get_site(session, site_id)
    return PolicyPublic.model_validate(policy.set_policy(session, site_id, body, actor_of(token)))


@router.put("/opening-hours", response_model=list[OpeningDay])
def update_opening_hours(
    site_id: str, body: list[OpeningDay], session: SessionDep, token: ManagerDep
) -> list[OpeningDay]:
    """Replace the opening hours; weekdays not listed are closed."""
    spaces.get_site(session, site_id)
    policy.set_opening_hours(session, site_id, body, actor_of(token))
    return body


@router.post("/holidays", response_model=HolidayPublic, status_code=201)
def create_holiday(
    site_id: str, body: HolidayPublic, session: SessionDep, token: ManagerDep
) -> HolidayPublic:
    """Close the site on a day."""
    spaces.get_site(session, site_id)
    policy.add_holiday(session, site_id, body, actor_of(token))
    return body
