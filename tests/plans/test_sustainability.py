"""Facility sees plans only as counts: planned people per site, work days per base kind."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from backend.bookings.models import Booking
from backend.database import make_engine, make_session_factory
from backend.plans.models import WorkPlan
from backend.plans.service import week_of
from tests.backend.conftest import bearer


def _store(url, *rows):
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            session.add_all(rows)
            session.commit()
    finally:
        engine.dispose()


def _checked_in(user_id, space_id, site_id, day):
    start = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
    return Booking(
        space_id=space_id, site_id=site_id, space_kind="desk", user_id=user_id, start_at=start,
        end_at=start + timedelta(hours=8), local_day=day, status="released",
        checked_in_at=start + timedelta(minutes=5), check_in_method="sensor",
    )  # fmt: skip


def test_work_days_per_base_kind_from_plans_and_check_ins(api, seeded, people):
    monday = week_of(datetime.now(UTC).date()) - timedelta(weeks=2)
    tuesday, wednesday = monday + timedelta(days=1), monday + timedelta(days=2)
    staff = [people("employee", f"m{n}") for n in range(6)]
    rows = []
    for p in staff[:5]:  # five plan the central office on Tuesday
        rows.append(WorkPlan(user_id=p.id, day=tuesday, place="site", site_id="hq"))
    for p in staff[:5]:  # and home on Wednesday
        rows.append(WorkPlan(user_id=p.id, day=wednesday, place="home"))
    # The sixth planned home but checked in at the satellite: the check-in counts.
    rows.append(WorkPlan(user_id=staff[5].id, day=tuesday, place="home"))
    _store(seeded.url, *rows)
    _store(seeded.url, _checked_in(staff[5].id, "dalfsen.0.d-001", "dalfsen", tuesday))
    # One check-in on Wednesday at hq by someone who planned home: hq 1 person -> suppressed.
    _store(seeded.url, _checked_in(staff[0].id, "hq.1.d-001", "hq", wednesday))

    h = bearer(seeded.admin_token)
    params = {"start": monday.isoformat(), "end": (monday + timedelta(days=6)).isoformat()}
    r = api.get("/api/v1/facility/sustainability", params=params, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["min_group"] == 5 and body["kinds"][-1] == "home"
    cells = {row["kind"]: row for row in body["rows"]}
    assert [row["period"] for row in body["rows"]] == [monday.isoformat()] * 4
    assert cells["central_office"] == {
        "period": monday.isoformat(), "kind": "central_office", "work_days": 6, "people": 5,
        "checked_in_days": 1, "suppressed": False,
    }  # fmt: skip
    # Home: four left on Wednesday (one checked in at hq instead), under five: suppressed.
    assert (cells["home"]["work_days"], cells["home"]["suppressed"]) == (None, True)
    assert cells["satellite"] == {
        "period": monday.isoformat(), "kind": "satellite", "work_days": None, "people": None,
        "checked_in_days": None, "suppressed": True,
    }  # fmt: skip
    assert (cells["field_base"]["work_days"], cells["field_base"]["suppressed"]) == (0, False)

    r = api.get("/api/v1/facility/sustainability", params={**params, "format": "csv"}, headers=h)
    assert r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["kind"]: row["work_days"] for row in table} == {
        "central_office": "6", "field_base": "0", "satellite": "", "home": ""
    }  # fmt: skip

    month = api.get("/api/v1/facility/sustainability",
                    params={**params, "period": "month"}, headers=h).json()  # fmt: skip
    assert {row["period"] for row in month["rows"]} <= {
        monday.strftime("%Y-%m"),
        (monday + timedelta(days=6)).strftime("%Y-%m"),
    }

    # Employees never read it.
    r = api.get("/api/v1/facility/sustainability", params=params, headers=bearer(staff[0].token))
    assert (r.status_code, r.json()["reason"]) == (403, "role_not_allowed")


def test_planned_people_per_site_suppressed_below_the_threshold(api, seeded, people):
    day = date.today() + timedelta(days=3)
    staff = [people("employee", f"n{n}") for n in range(5)]
    _store(
        seeded.url,
        *(WorkPlan(user_id=p.id, day=day, place="site", site_id="hq") for p in staff[:4]),
    )
    h = bearer(seeded.admin_token)
    q = {"site": "hq", "day": day.isoformat()}
    r = api.get("/api/v1/facility/planned", params=q, headers=h).json()
    assert r["min_group"] == 5 and r["day"] == day.isoformat()
    assert r["rows"] == [{"site": "hq", "people": None, "by_floor": {}, "suppressed": True}]
    _store(seeded.url, WorkPlan(user_id=staff[4].id, day=day, place="site", site_id="hq"))
    r = api.get("/api/v1/facility/planned", params={"day": day.isoformat()}, headers=h).json()
    assert r["rows"] == [
        {"site": "dalfsen", "people": None, "by_floor": {}, "suppressed": True},
        {"site": "hq", "people": 5, "by_floor": {}, "suppressed": False},
    ]
