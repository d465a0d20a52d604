"""Sample week plans and a team for the demo: team days and sustainability figures at once.

Twelve made-up colleagues and the demo's own login form team "Wijkteam Zwolle";
half of the colleagues share their plan. Each has a plan for four weeks back and
two ahead (office, satellite or home by a fixed pattern per person). Idempotent:
nothing happens when the team exists.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.people import service as people
from backend.people.models import User
from backend.plans.models import WorkPlan
from backend.spaces.models import Site, utcnow
from backend.teams.models import PlanSharing, Team, TeamMember

TEAM = "Wijkteam Zwolle"
NAMES = (
    "Sanne de Vries", "Mohamed Amrani", "Lotte Jansen", "Daan Bakker", "Fatma Yilmaz",
    "Joris Visser", "Eva Smit", "Ruben Mulder", "Noor Hendriks", "Bram de Boer",
    "Iris Dekker", "Kees Vos",
)  # fmt: skip


def _place(person: int, day: date, sites: list[str]) -> tuple[str, str | None] | None:
    """A fixed, believable pattern: two or three office days, some satellite, the rest home."""
    weekday = day.weekday()
    if weekday >= 5:
        return None
    if (person + weekday) % 5 in (0, 2):
        return "site", sites[0]
    if len(sites) > 1 and (person + weekday) % 7 == 3:
        return "site", sites[1]
    if (person * 3 + weekday + day.isocalendar().week) % 11 == 0:
        return None  # nothing planned: leave, a course, forgot
    return "home", None


def seed_demo_plans(session: Session, login: str, today: date) -> int:
    """Make the demo team and its plans unless the team exists; return plans written."""
    if session.scalar(select(Team.id).where(Team.name == TEAM)) is not None:
        return 0
    sites = list(session.scalars(select(Site.id).order_by(Site.kind != "central_office", Site.id)))
    if not sites:
        return 0
    team = Team(name=TEAM, home_site_id=sites[0], home_zone="A", created_at=utcnow())
    session.add(team)
    session.flush()
    members: list[int] = []
    for n, name in enumerate(NAMES):
        username = "demo-" + name.lower().replace(" ", "-")
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = people.create_user(session, username=username, display_name=name, actor="demo")
        members.append(user.id)
        session.add(PlanSharing(user_id=user.id, share_with_team=n % 2 == 0, updated_at=utcnow()))
    own = session.scalar(select(User).where(User.username == login))
    for user_id in [*members, *([own.id] if own else [])]:
        session.add(
            TeamMember(team_id=team.id, user_id=user_id, source="admin", created_at=utcnow())
        )
    monday = today - timedelta(days=today.weekday())
    written = 0
    for n, user_id in enumerate(members):
        for offset in range(-28, 14):
            day = monday + timedelta(days=offset)
            place = _place(n, day, sites)
            if place is not None:
                session.add(WorkPlan(user_id=user_id, day=day, place=place[0], site_id=place[1],
                                     source="pattern", updated_at=utcnow()))  # fmt: skip
                written += 1
    session.commit()
    return written


def seed_demo_plans_at(database_url: str, login: str) -> int:
    """``seed_demo_plans`` on a database named by URL, for today (the demo's entry point)."""
    from backend.clock import utcnow
    from backend.database import make_engine, make_session_factory

    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            return seed_demo_plans(session, login, utcnow().date())
    finally:
        engine.dispose()
