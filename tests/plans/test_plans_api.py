"""Week plan and team API: own plan only, bookings fill the plan, teams share by choice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.backend.conftest import always_open, bearer


def _next_tuesday():
    today = datetime.now(UTC).date()
    return today + timedelta(days=7 - today.weekday() + 1)


@pytest.fixture
def tuesday(seeded):
    always_open(seeded.url)
    return _next_tuesday()


def _day(week, day):
    return next(d for d in week["days"] if d["day"] == day.isoformat())


def test_a_person_plans_their_week_and_a_desk_booking_fills_it_in(api, people, tuesday):
    ann = people("employee", "ann")
    h = bearer(ann.token)
    week = api.get("/api/v1/plans/me", params={"week": tuesday.isoformat()}, headers=h).json()
    assert (
        len(week["days"]) == 7
        and week["days"][0]["day"] == (tuesday - timedelta(days=1)).isoformat()
    )
    assert all(d["place"] is None for d in week["days"])

    r = api.put(
        f"/api/v1/plans/me/days/{tuesday}", json={"place": "site", "site_id": "hq"}, headers=h
    )
    assert r.status_code == 200, r.text
    day = _day(r.json(), tuesday)
    assert (day["place"], day["site_id"], day["site_kind"], day["source"]) == (
        "site", "hq", "central_office", "manual",
    )  # fmt: skip
    wednesday = tuesday + timedelta(days=1)
    r = api.put(f"/api/v1/plans/me/days/{wednesday}", json={"place": "home"}, headers=h)
    assert _day(r.json(), wednesday)["place"] == "home"

    # A desk booking at the satellite on Wednesday fills the plan in; cancelling it undoes that.
    booked = api.post(
        "/api/v1/bookings",
        json={"space_id": "dalfsen.0.d-001", "date": wednesday.isoformat(), "part": "day"},
        headers=h,
    )
    assert booked.status_code == 201, booked.text
    day = _day(
        api.get("/api/v1/plans/me", params={"week": wednesday.isoformat()}, headers=h).json(),
        wednesday,
    )
    assert (day["place"], day["site_id"], day["source"]) == ("site", "dalfsen", "booking")
    assert day["desk"]["space_id"] == "dalfsen.0.d-001"
    api.delete(f"/api/v1/bookings/{booked.json()['id']}", headers=h)
    day = _day(
        api.get("/api/v1/plans/me", params={"week": wednesday.isoformat()}, headers=h).json(),
        wednesday,
    )
    assert (day["place"], day["source"], day["desk"]) == ("home", "manual", None)

    r = api.delete(f"/api/v1/plans/me/days/{wednesday}", headers=h)
    assert _day(r.json(), wednesday)["place"] is None

    # Copy last week into the next: Tuesday at hq comes along, a planned day stays.
    next_tue = tuesday + timedelta(days=7)
    api.put(f"/api/v1/plans/me/days/{next_tue}", json={"place": "home"}, headers=h)
    r = api.post("/api/v1/plans/me/copy-last-week", json={"week": next_tue.isoformat()}, headers=h)
    assert _day(r.json(), next_tue)["place"] == "home"
    r = api.post(
        "/api/v1/plans/me/copy-last-week",
        json={"week": next_tue.isoformat(), "overwrite": True},
        headers=h,
    )
    assert (_day(r.json(), next_tue)["site_id"], _day(r.json(), next_tue)["source"]) == (
        "hq",
        "copy",
    )


def test_the_default_pattern_fills_a_week(api, people, tuesday):
    h = bearer(people("employee", "bo").token)
    pattern = {
        "days": [{"weekday": 1, "place": "site", "site_id": "hq"}, {"weekday": 4, "place": "home"}]
    }
    r = api.put("/api/v1/plans/me/pattern", json=pattern, headers=h)
    assert r.status_code == 200 and r.json() == {
        "days": [
            {"weekday": 1, "place": "site", "site_id": "hq"},
            {"weekday": 4, "place": "home", "site_id": None},
        ]
    }
    r = api.post("/api/v1/plans/me/apply-pattern", json={"week": tuesday.isoformat()}, headers=h)
    places = [(d["place"], d["source"]) for d in r.json()["days"]]
    assert places == [
        (None, None), ("site", "pattern"), (None, None), (None, None), ("home", "pattern"),
        (None, None), (None, None),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "reason"),
    [
        ("put", "/api/v1/plans/me/days/{d}", {"place": "site"}, 422, "validation_error"),
        (
            "put",
            "/api/v1/plans/me/days/{d}",
            {"place": "home", "site_id": "hq"},
            422,
            "validation_error",
        ),
        ("put", "/api/v1/plans/me/days/{d}", {"place": "office"}, 422, "validation_error"),
        (
            "put",
            "/api/v1/plans/me/days/{d}",
            {"place": "site", "site_id": "nope"},
            422,
            "unknown_site",
        ),
        ("put", "/api/v1/plans/me/days/2001-01-01", {"place": "home"}, 422, "day_out_of_range"),
        ("put", "/api/v1/plans/me/days/2031-02-30", {"place": "home"}, 422, "validation_error"),
        (
            "put",
            "/api/v1/plans/me/pattern",
            {"days": [{"weekday": 1, "place": "home"}] * 2},
            422,
            "validation_error",
        ),
        (
            "put",
            "/api/v1/plans/me/pattern",
            {"days": [{"weekday": 9, "place": "home"}]},
            422,
            "validation_error",
        ),
        ("get", "/api/v1/plans/me/days/{d}/desks", None, 422, "no_site_planned"),
        ("get", "/api/v1/plans/me?week=9999-12-31", None, 422, "week_out_of_range"),
        ("get", "/api/v1/plans/me?week=0001-01-01", None, 422, "week_out_of_range"),
        ("get", "/api/v1/teams/99/week", None, 404, "unknown_team"),
        ("get", "/api/v1/teams/0/week", None, 422, "validation_error"),
        ("get", "/api/v1/teams", None, 403, "role_not_allowed"),
        (
            "get",
            "/api/v1/facility/sustainability?start=2031-01-01&end=2030-01-01",
            None,
            403,
            "role_not_allowed",
        ),
    ],
)
def test_bad_input_is_a_problem_with_a_reason(
    api, people, tuesday, method, path, body, status, reason
):
    h = bearer(people("employee").token)
    r = api.request(method, path.format(d=tuesday.isoformat()), json=body, headers=h)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["reason"] == reason


def test_facility_input_problems(api, seeded):
    h = bearer(seeded.admin_token)
    for params, reason in [
        ({"start": "2031-02-01", "end": "2031-01-01"}, "bad_range"),
        ({"start": "2030-01-01", "end": "2031-06-01"}, "range_too_long"),
        ({"start": "2031-01-01", "end": "2031-01-31", "period": "year"}, "validation_error"),
        ({"start": "9999-12-01", "end": "9999-12-31", "period": "month"}, "date_out_of_range"),
    ]:
        r = api.get("/api/v1/facility/sustainability", params=params, headers=h)
        assert (r.status_code, r.json()["reason"]) == (422, reason), r.text
    r = api.get("/api/v1/facility/planned", params={"site": "nope", "day": "2031-01-01"}, headers=h)
    assert (r.status_code, r.json()["reason"]) == (422, "unknown_site")
    # A token of no person has no plan or teams.
    for path in ("/api/v1/plans/me", "/api/v1/teams/me"):
        r = api.get(path, headers=h)
        assert (r.status_code, r.json()["reason"]) == (404, "no_user")
