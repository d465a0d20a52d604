"""Teams, membership, the sharing choice, and a team's week as counts plus shared names.

What a member sees of a colleague depends on the colleague's choice: one who shares
is shown by name at their planned place; one who does not is only part of the count.
Nobody who is not in the team sees its week, admins and facility included: there is
no per-person attendance list for managers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.people.models import User
from backend.plans import service as plans
from backend.spaces.models import Site, utcnow
from backend.teams.models import PlanSharing, Team, TeamMember
from backend.teams.schemas import (
    MyTeams,
    PlaceCount,
    TeamChange,
    TeamCreate,
    TeamDay,
    TeamPublic,
    TeamWeek,
)


def _public(session: Session, team: Team) -> TeamPublic:
    size = session.scalar(select(func.count()).where(TeamMember.team_id == team.id)) or 0
    return TeamPublic(
        id=team.id,
        name=team.name,
        oidc_group=team.oidc_group,
        home_site_id=team.home_site_id,
        home_zone=team.home_zone,
        members=size,
    )


def get_team(session: Session, team_id: int) -> Team:
    """The team, or 404."""
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"there is no team {team_id}", reason="unknown_team")
    return team


def team_ids_of(session: Session, user_id: int) -> list[int]:
    """The teams a person is in."""
    return list(session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == user_id)))


def members_of(session: Session, team_ids: Iterable[int]) -> set[int]:
    """Everyone in any of these teams."""
    ids = list(team_ids)
    if not ids:
        return set()
    return set(session.scalars(select(TeamMember.user_id).where(TeamMember.team_id.in_(ids))))


def shares(session: Session, user_ids: Iterable[int]) -> set[int]:
    """Those of these people who chose to share their plan with their teams."""
    ids = list(user_ids)
    if not ids:
        return set()
    return set(
        session.scalars(
            select(PlanSharing.user_id).where(
                PlanSharing.user_id.in_(ids), PlanSharing.share_with_team.is_(True)
            )
        )
    )


def sharing_teammates(session: Session, user_id: int) -> set[int]:
    """Colleagues in a common team who share their plan (never the person themself)."""
    return shares(session, members_of(session, team_ids_of(session, user_id)) - {user_id})


def home_zones(session: Session, user_id: int) -> set[tuple[str, str]]:
    """(site, zone) home zones of the person's teams."""
    rows = session.execute(
        select(Team.home_site_id, Team.home_zone)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.user_id == user_id)
    ).all()
    return {(s, z) for s, z in rows if s is not None and z is not None}


def my_teams(session: Session, user_id: int) -> MyTeams:
    """The person's teams and sharing choice."""
    teams = session.scalars(
        select(Team).where(Team.id.in_(team_ids_of(session, user_id))).order_by(Team.name)
    )
    return MyTeams(
        share_with_team=bool(shares(session, [user_id])),
        teams=[_public(session, t) for t in teams],
    )


def set_sharing(session: Session, user_id: int, share: bool) -> None:
    """Turn sharing the person's plan with their teams on or off."""
    row = session.get(PlanSharing, user_id)
    if row is None:
        session.add(PlanSharing(user_id=user_id, share_with_team=share, updated_at=utcnow()))
    else:
        row.share_with_team, row.updated_at = share, utcnow()
    session.commit()


def team_week(session: Session, user_id: int, team_id: int, week: date) -> TeamWeek:
    """Per day, where the other members plan to be: counts, and names of those who share."""
    team = get_team(session, team_id)
    if team_id not in team_ids_of(session, user_id):
        raise Forbidden("only members see a team's week", reason="not_in_team")
    days = plans.week_days(week)
    others = members_of(session, [team_id]) - {user_id}
    named = shares(session, others)
    names = {
        u.id: u.display_name
        for u in session.scalars(select(User).where(User.id.in_(named), User.active.is_(True)))
    }
    sites = {s.id: s for s in session.scalars(select(Site))}
    places = plans.effective(session, others, days[0], days[-1])
    out: list[TeamDay] = []
    for day in days:
        groups: dict[tuple[str, str | None], list[int]] = {}
        for other in sorted(others):
            eff = places.get((other, day))
            if eff is not None:
                groups.setdefault((eff.place, eff.site_id), []).append(other)
        counts = []
        for (place, site_id), who in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0][0])):
            site = sites.get(site_id) if site_id else None
            counts.append(
                PlaceCount(
                    place=place,
                    site_id=site_id,
                    site_name=site.name if site else None,
                    site_kind=site.kind if site else None,
                    count=len(who),
                    names=sorted(names[u] for u in who if u in names),
                )
            )
        out.append(TeamDay(day=day, places=counts))
    return TeamWeek(team_id=team.id, team_name=team.name, week=days[0], days=out)


# --- admin: teams and members ---


def list_teams(session: Session) -> list[TeamPublic]:
    """Every team with its size."""
    return [_public(session, t) for t in session.scalars(select(Team).order_by(Team.name))]


def _check_home(session: Session, site_id: str | None, zone: str | None) -> None:
    plans.check_site(session, site_id)
    if zone is not None and site_id is None:
        raise InvalidInput("a home zone needs home_site_id", reason="zone_without_site")


def _commit_unique(session: Session, what: str) -> None:
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"{what} is already used by another team", reason="team_exists") from exc


def create_team(session: Session, body: TeamCreate) -> TeamPublic:
    """Make a team (an admin; or a login naming a new group with the team prefix)."""
    _check_home(session, body.home_site_id, body.home_zone)
    team = Team(**body.model_dump(), created_at=utcnow())
    session.add(team)
    _commit_unique(session, "the name or group")
    return _public(session, team)


def change_team(session: Session, team_id: int, body: TeamChange) -> TeamPublic:
    """Rename a team or set its home zone."""
    team = get_team(session, team_id)
    fields = body.model_dump(exclude_unset=True)
    _check_home(
        session,
        fields.get("home_site_id", team.home_site_id),
        fields.get("home_zone", team.home_zone),
    )
    for key, value in fields.items():
        setattr(team, key, value)
    _commit_unique(session, "the name")
    return _public(session, team)


def delete_team(session: Session, team_id: int) -> None:
    """Remove a team and its memberships (the members' plans stay theirs)."""
    team = get_team(session, team_id)
    session.execute(delete(TeamMember).where(TeamMember.team_id == team_id))
    session.delete(team)
    session.commit()


def add_member(session: Session, team_id: int, user_id: int, source: str = "admin") -> None:
    """Put a person in a team (idempotent)."""
    get_team(session, team_id)
    if session.get(User, user_id) is None:
        raise NotFound(f"there is no user {user_id}", reason="unknown_user")
    if session.get(TeamMember, (team_id, user_id)) is None:
        session.add(
            TeamMember(team_id=team_id, user_id=user_id, source=source, created_at=utcnow())
        )
        session.commit()


def remove_member(session: Session, team_id: int, user_id: int) -> None:
    """Take a person out of a team."""
    get_team(session, team_id)
    row = session.get(TeamMember, (team_id, user_id))
    if row is None:
        raise NotFound(f"user {user_id} is not in team {team_id}", reason="not_a_member")
    session.delete(row)
    session.commit()


# --- the identity provider's groups ---


def follow_groups(session: Session, user_id: int, groups: list[str], prefix: str) -> None:
    """Make the person's group-made memberships match the groups of this login.

    Teams an admin made for a group, and (with a prefix) teams named by prefixed
    groups, which are made on first sight. Memberships an admin gave stay.
    Adds to the session; the caller commits.
    """
    wanted = {g for g in groups if g}
    known = {
        t.oidc_group: t.id
        for t in session.scalars(select(Team).where(Team.oidc_group.is_not(None)))
        if t.oidc_group is not None
    }
    for group in sorted(wanted - set(known)):
        if not (prefix and group.startswith(prefix) and len(group) > len(prefix)):
            continue
        for name in (group[len(prefix) :][:100], group[:100]):  # the short name if it is free
            if session.scalar(select(Team.id).where(Team.name == name)) is None:
                break
        else:
            continue  # both names taken by other teams: an admin links the group by hand
        team = Team(name=name, oidc_group=group[:200], created_at=utcnow())
        try:
            with session.begin_nested():  # another login may make the same team right now
                session.add(team)
        except IntegrityError:
            continue
        known[group] = team.id
    target = {known[g] for g in wanted if g in known}
    current = {
        m.team_id: m
        for m in session.scalars(select(TeamMember).where(TeamMember.user_id == user_id))
    }
    for team_id, member in current.items():
        if member.source == "oidc" and team_id not in target:
            session.delete(member)
    for team_id in target - set(current):
        session.add(
            TeamMember(team_id=team_id, user_id=user_id, source="oidc", created_at=utcnow())
        )
    session.flush()
