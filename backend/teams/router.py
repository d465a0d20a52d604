"""Team endpoints: a member's teams, sharing choice and team week; admin team management."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy.orm import Session

from backend.auth.models import ApiToken
from backend.dependencies import AdminDep, BookerDep, SessionDep
from backend.errors import NotFound
from backend.people import audit
from backend.plans.service import today
from backend.teams import service as teams
from backend.teams.schemas import MyTeams, Sharing, TeamChange, TeamCreate, TeamPublic, TeamWeek
from backend.types import MAX_ROW_ID

router = APIRouter(prefix="/api/v1/teams", tags=["teams"])
TeamId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
UserId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


def _person(token: ApiToken) -> int:
    if token.user_id is None:
        raise NotFound("this token belongs to no person, so it has no teams", reason="no_user")
    return token.user_id


def _audit(
    session: Session, token: ApiToken, action: str, kind: str, object_id: int, **detail: Any
) -> None:
    """Record an admin's change of teams (person objects are anonymised by retention)."""
    audit.record(session, audit.actor_of(token), action, kind, object_id,
                 actor_user_id=token.user_id, **detail)  # fmt: skip
    session.commit()


@router.get("/me", response_model=MyTeams)
def read_my_teams(session: SessionDep, token: BookerDep) -> MyTeams:
    """The caller's teams and whether they share their plan with them."""
    return teams.my_teams(session, _person(token))


@router.put("/me/sharing", response_model=MyTeams)
def set_sharing(body: Sharing, session: SessionDep, token: BookerDep) -> MyTeams:
    """Share the caller's plan by name with their teams, or stop (default: off)."""
    user = _person(token)
    teams.set_sharing(session, user, body.share_with_team)
    return teams.my_teams(session, user)


@router.get("/{team_id}/week", response_model=TeamWeek)
def read_team_week(
    team_id: TeamId,
    session: SessionDep,
    token: BookerDep,
    week: Annotated[date | None, Query()] = None,
) -> TeamWeek:
    """Per day, how many other members plan each place, and who of them shares.

    Members only (403 ``not_in_team`` for anyone else, managers included).
    """
    return teams.team_week(session, _person(token), team_id, week or today())


@router.get("", response_model=list[TeamPublic])
def list_teams(session: SessionDep, _: AdminDep) -> list[TeamPublic]:
    """Every team with its number of members (no one's plan)."""
    return teams.list_teams(session)


@router.post("", response_model=TeamPublic, status_code=201)
def create_team(body: TeamCreate, session: SessionDep, token: AdminDep) -> TeamPublic:
    """Make a team; with ``oidc_group`` its members follow that group at every login."""
    team = teams.create_team(session, body)
    _audit(session, token, "team.create", "team", team.id, **body.model_dump())
    return team


@router.patch("/{team_id}", response_model=TeamPublic)
def change_team(
    team_id: TeamId, body: TeamChange, session: SessionDep, token: AdminDep
) -> TeamPublic:
    """Rename a team or set its home site and zone."""
    team = teams.change_team(session, team_id, body)
    _audit(session, token, "team.change", "team", team_id, **body.model_dump(exclude_unset=True))
    return team


@router.delete("/{team_id}", status_code=204)
def delete_team(team_id: TeamId, session: SessionDep, token: AdminDep) -> Response:
    """Remove a team and its memberships."""
    teams.delete_team(session, team_id)
    _audit(session, token, "team.delete", "team", team_id)
    return Response(status_code=204)


@router.put("/{team_id}/members/{user_id}", status_code=204)
def add_member(team_id: TeamId, user_id: UserId, session: SessionDep, token: AdminDep) -> Response:
    """Put a person in a team (audited: an admin who joins a team sees its sharers' names)."""
    teams.add_member(session, team_id, user_id)
    _audit(session, token, "team.member_add", "user", user_id, team_id=team_id)
    return Response(status_code=204)


@router.delete("/{team_id}/members/{user_id}", status_code=204)
def remove_member(
    team_id: TeamId, user_id: UserId, session: SessionDep, token: AdminDep
) -> Response:
    """Take a person out of a team."""
    teams.remove_member(session, team_id, user_id)
    _audit(session, token, "team.member_remove", "user", user_id, team_id=team_id)
    return Response(status_code=204)
