"""The demo's team and week plans: idempotent, counted in the figures, names only of sharers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.database import make_engine, make_session_factory
from backend.plans import sustainability
from backend.plans.demo import NAMES, seed_demo_plans
from backend.plans.service import week_of
from backend.teams import service as teams
from backend.teams.models import Team


def test_demo_plans_fill_a_team_and_the_figures(seeded, people):
    me = people("employee", "medewerker")
    today = datetime.now(UTC).date()
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            written = seed_demo_plans(session, "medewerker", today)
            assert written > 12 * 20  # twelve people, six weeks, most days planned
            assert seed_demo_plans(session, "medewerker", today) == 0  # idempotent
            team = session.query(Team).one()
            assert teams.my_teams(session, me.id).teams[0].members == len(NAMES) + 1
            week = teams.team_week(session, me.id, team.id, today + timedelta(days=7))
            counted = sum(p.count for d in week.days for p in d.places)
            named = {n for d in week.days for p in d.places for n in p.names}
            assert counted > 30 and named and named <= set(NAMES[::2])  # sharers only
            monday = week_of(today) - timedelta(weeks=3)
            rows = sustainability.work_days(
                session, monday, monday + timedelta(days=13), period="week", min_group=5
            )
            office = [r for r in rows if r.kind == "central_office"]
            assert office and all(not r.suppressed and (r.work_days or 0) > 0 for r in office)
    finally:
        engine.dispose()
