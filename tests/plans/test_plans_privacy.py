"""Plans and teams are personal records: in the inventory, deleted on time, exported, erased."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.database import make_engine, make_session_factory
from backend.plans.models import WorkPlan
from backend.privacy import inventory
from backend.privacy.retention import run_retention
from tests.backend.conftest import always_open, bearer


def _rows(seeded, table, user_id):
    return seeded.query(f"SELECT count(*) FROM {table} WHERE user_id = {user_id}")[0][0]


def _setup(api, seeded, person, day):
    h = bearer(person.token)
    assert (
        api.put(f"/api/v1/plans/me/days/{day}", json={"place": "home"}, headers=h).status_code
        == 200
    )
    pattern = {"days": [{"weekday": 0, "place": "site", "site_id": "hq"}]}
    assert api.put("/api/v1/plans/me/pattern", json=pattern, headers=h).status_code == 200
    api.put("/api/v1/teams/me/sharing", json={"share_with_team": True}, headers=h)
    team = api.post("/api/v1/teams", json={"name": "Privacy"}, headers=bearer(seeded.admin_token))
    api.put(
        f"/api/v1/teams/{team.json()['id']}/members/{person.id}", headers=bearer(seeded.admin_token)
    )


def test_the_plan_tables_are_in_the_inventory_as_personal():
    tables = inventory.tables()
    for name in ("work_plan", "plan_pattern", "plan_sharing", "team_member"):
        assert tables[name].personal == ("user_id",), name
        assert "WEEKS" in tables["work_plan"].kept
    assert not tables["team"].is_personal


def test_retention_deletes_plans_older_than_the_period(seeded, people):
    ann = people("employee", "ann")
    today = datetime.now(UTC).date()
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            for weeks in (0, 25, 27, 60):
                session.add(
                    WorkPlan(user_id=ann.id, day=today - timedelta(weeks=weeks), place="home")
                )
            session.commit()
            now = datetime.now(UTC)
            result = run_retention(session, now, 30)
            assert result.plans_deleted == 2
            kept = sorted(p.day for p in session.query(WorkPlan).filter_by(user_id=ann.id))
            assert kept == [today - timedelta(weeks=25), today]
            # A year on, nothing of it is left.
            assert run_retention(session, now + timedelta(days=365), 30).plans_deleted == 2
            assert _rows(seeded, "work_plan", ann.id) == 0
    finally:
        engine.dispose()


def test_export_and_erasure_include_plans_and_teams(api, seeded, people):
    always_open(seeded.url)
    ann = people("employee", "ann")
    day = datetime.now(UTC).date() + timedelta(days=2)
    _setup(api, seeded, ann, day)
    data = api.get("/api/v1/me/export", headers=bearer(ann.token)).json()
    assert data["work_plan"] == [
        {**data["work_plan"][0], "day": day.isoformat(), "place": "home", "site_id": None,
         "source": "manual"}
    ]  # fmt: skip
    assert [(p["weekday"], p["site_id"]) for p in data["plan_pattern"]] == [(0, "hq")]
    assert data["plan_sharing"][0]["share_with_team"] is True
    assert len(data["team_member"]) == 1 and data["team_member"][0]["source"] == "admin"
    for table in ("work_plan", "plan_pattern", "plan_sharing", "team_member"):
        assert _rows(seeded, table, ann.id) == 1, table

    r = api.post("/api/v1/me/erase", json={"confirm": "ann"}, headers=bearer(ann.token))
    assert r.status_code == 200, r.text
    assert r.json()["plan_rows_deleted"] == 4
    for table in ("work_plan", "plan_pattern", "plan_sharing", "team_member"):
        assert _rows(seeded, table, ann.id) == 0, table
