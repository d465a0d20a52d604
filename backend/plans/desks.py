"""Free desks for a planned day, "near my team" first.

A desk is suggested when it is free for the whole opening time of the day. With
``near_team`` the desks in zones where colleagues who share their plan have booked
that day come first, then a team's home zone. Colleagues who do not share never
steer a suggestion: their desk would give away where they sit.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.bookings import policy, times
from backend.bookings.models import ACTIVE, Booking
from backend.errors import InvalidInput
from backend.plans import service as plans
from backend.plans.schemas import DeskSuggestion, Suggestions
from backend.spaces.models import Floor, Site, Space
from backend.teams import service as teams

#: At most this many desks are suggested.
LIMIT = 20


def _planned_site(session: Session, user_id: int, day: date, site_id: str | None) -> Site:
    if site_id is not None:
        site = plans.check_site(session, site_id)
        assert site is not None
        return site
    eff = plans.effective(session, [user_id], day, day).get((user_id, day))
    if eff is None or eff.site_id is None:
        raise InvalidInput(
            f"no site is planned on {day.isoformat()}; plan a site or name one with site_id",
            reason="no_site_planned",
        )
    site = session.get(Site, eff.site_id)
    assert site is not None
    return site


def _team_zones(session: Session, user_id: int, site_id: str, day: date) -> set[tuple[str, str]]:
    """(floor, zone) where sharing colleagues hold a desk at the site that day."""
    mates = teams.sharing_teammates(session, user_id)
    booked = plans.desk_bookings(session, mates, day, day)
    return {
        (space.floor_id, space.zone)
        for (_user, _day), (booking, space) in booked.items()
        if booking.site_id == site_id and space.zone is not None
    }


def suggest(
    session: Session, user_id: int, day: date, *, site_id: str | None, near_team: bool
) -> Suggestions:
    """Desks free all day at the planned (or named) site, best first."""
    plans.check_day(day)
    site = _planned_site(session, user_id, day, site_id)
    tz = times.zone(site.timezone)
    start, end = times.day_part(policy.open_time(session, site, day), "day", tz)
    busy = set(
        session.scalars(
            select(Booking.space_id).where(
                Booking.site_id == site.id,
                Booking.status.in_(ACTIVE),
                Booking.start_at < end,
                Booking.end_at > start,
            )
        )
    )
    floors = {f.id: f for f in session.scalars(select(Floor).where(Floor.site_id == site.id))}
    near = _team_zones(session, user_id, site.id, day) if near_team else set()
    home = (
        {z for s, z in teams.home_zones(session, user_id) if s == site.id} if near_team else set()
    )
    desks: list[tuple[int, int, str, DeskSuggestion]] = []
    for space in session.scalars(
        select(Space).where(Space.site_id == site.id, Space.kind == "desk")
    ):
        if space.id in busy:
            continue
        floor = floors[space.floor_id]
        reason: str | None = None
        if (space.floor_id, space.zone) in near:
            reason = "near_team"
        elif space.zone is not None and space.zone in home:
            reason = "team_zone"
        rank = {"near_team": 0, "team_zone": 1}.get(reason or "", 2)
        item = DeskSuggestion(
            space_id=space.id,
            name=space.name,
            floor_id=floor.id,
            floor_name=floor.name,
            zone=space.zone,
            reason=reason,  # type: ignore[arg-type]
        )
        desks.append((rank, floor.level, space.id, item))
    desks.sort(key=lambda d: d[:3])
    return Suggestions(
        day=day,
        site_id=site.id,
        site_name=site.name,
        near_team=near_team,
        desks=[d[3] for d in desks[:LIMIT]],
    )
