"""Teams follow the identity provider's groups claim at every login; admin memberships stay."""

from __future__ import annotations

from sqlalchemy import select

from backend.auth.oidc_users import sign_in
from backend.database import make_engine, make_session_factory
from backend.teams import service as teams
from backend.teams.models import Team, TeamMember
from backend.teams.schemas import TeamCreate
from backend.teams.settings import team_settings


def _claims(sub, groups):
    claims = {"iss": "https://idp.example", "sub": sub, "name": sub.title()}
    if groups is not None:
        claims["groups"] = groups
    return claims


def _memberships(session, user_id):
    rows = session.execute(
        select(Team.name, TeamMember.source)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.user_id == user_id)
    ).all()
    return sorted((name, source) for name, source in rows)


def test_groups_make_and_follow_teams(seeded, monkeypatch):
    monkeypatch.setenv("WERKPLEK_OIDC_TEAM_PREFIX", "team-")
    team_settings.cache_clear()
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            admin_made = teams.create_team(
                session, TeamCreate(name="Vergunningen", oidc_group="grp-vg")
            )
            other = teams.create_team(session, TeamCreate(name="Handmatig"))

            def login(groups):
                return sign_in(session, _claims("ann", groups), username_claim="preferred_username",
                               groups_claim=None, role_groups={})  # fmt: skip

            user = login(["team-wijkzaken", "grp-vg", "werkplek-admins", 7])
            assert _memberships(session, user.id) == [
                ("Vergunningen", "oidc"),
                ("wijkzaken", "oidc"),
            ]
            teams.add_member(session, other.id, user.id)  # an admin adds her by hand
            # A later login without the admin-made group: that membership ends, the hand one stays.
            login("team-wijkzaken")
            assert _memberships(session, user.id) == [("Handmatig", "admin"), ("wijkzaken", "oidc")]
            # A token without the claim leaves the memberships alone.
            login(None)
            assert _memberships(session, user.id) == [("Handmatig", "admin"), ("wijkzaken", "oidc")]
            login([])
            assert _memberships(session, user.id) == [("Handmatig", "admin")]
            # Without a prefix no team is made from a group, but an admin's group team still fills.
            monkeypatch.setenv("WERKPLEK_OIDC_TEAM_PREFIX", "")
            team_settings.cache_clear()
            login(["team-nieuw", "grp-vg"])
            assert _memberships(session, user.id) == [
                ("Handmatig", "admin"),
                ("Vergunningen", "oidc"),
            ]
            assert session.scalar(select(Team).where(Team.name == "nieuw")) is None
            assert admin_made.members == 0  # counted when made
            # A prefixed group whose names are both taken by other teams makes no team.
            monkeypatch.setenv("WERKPLEK_OIDC_TEAM_PREFIX", "team-")
            team_settings.cache_clear()
            teams.create_team(session, TeamCreate(name="bezet"))
            teams.create_team(session, TeamCreate(name="team-bezet"))
            login(["team-bezet"])
            assert _memberships(session, user.id) == [("Handmatig", "admin")]
    finally:
        engine.dispose()
        team_settings.cache_clear()
