"""Availability at a chosen day part or time range, on SQLite and PostgreSQL.

``GET /api/v1/availability/at`` answers "free or booked then" per space; it must
never name who booked, must check the window like a booking does, and must cost
the same few queries for a floor of 40 spaces as for a whole site.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tests.backend.conftest import always_open, bearer

AMS = ZoneInfo("Europe/Amsterdam")
AT = "/api/v1/availability/at"


def next_weekday(days_ahead: int = 1) -> date:
    """A Monday-to-Friday day at least ``days_ahead`` days after today at the site."""
    day = datetime.now(AMS).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def states(body: dict[str, Any]) -> dict[str, str]:
    """space id -> availability of an answer."""
    return {s["space_id"]: s["availability"] for s in body["spaces"]}


def test_desks_by_day_part_show_booked_free_and_mine(seeded, api, people):
    ann, bob = people("employee", "ann"), people("employee", "bob")
    day = next_weekday().isoformat()
    for who, space, part in ((bob, "hq.1.d-001", "morning"), (ann, "hq.1.d-002", "day")):
        made = api.post(
            "/api/v1/bookings",
            json={"space_id": space, "date": day, "part": part},
            headers=bearer(who.token),
        )
        assert made.status_code == 201, made.text
    morning = api.get(f"{AT}?site=hq&floor=hq-1&date={day}&part=morning", headers=bearer(ann.token))
    assert morning.status_code == 200, morning.text
    body = morning.json()
    seen = states(body)
    assert seen["hq.1.d-001"] == "booked" and seen["hq.1.d-002"] == "mine"
    assert seen["hq.1.d-003"] == "free"
    assert all(s["floor"] == "hq-1" for s in body["spaces"])
    assert len(seen) == len(body["spaces"]), "one entry per space"
    assert body["part"] == "morning" and body["date"] == day
    # Who booked is never in the answer: no user ids, names or booking ids.
    text = morning.text.lower()
    assert "user" not in text and "bob" not in text and "booking" not in text
    # In the afternoon Bob's desk is free again; for the whole day it is not.
    afternoon = states(
        api.get(
            f"{AT}?site=hq&floor=hq-1&date={day}&part=afternoon", headers=bearer(ann.token)
        ).json()
    )
    assert afternoon["hq.1.d-001"] == "free" and afternoon["hq.1.d-002"] == "mine"
    whole = states(
        api.get(f"{AT}?site=hq&floor=hq-1&date={day}&part=day", headers=bearer(bob.token)).json()
    )
    assert whole["hq.1.d-001"] == "mine" and whole["hq.1.d-002"] == "booked"
    # Cancelled bookings free the desk.
    mine = api.get("/api/v1/bookings?active=true", headers=bearer(bob.token)).json()["items"]
    api.delete(f"/api/v1/bookings/{mine[0]['id']}", headers=bearer(bob.token))
    again = api.get(f"{AT}?site=hq&floor=hq-1&date={day}&part=morning", headers=bearer(ann.token))
    assert states(again.json())["hq.1.d-001"] == "free"


def test_rooms_by_time_range_over_the_whole_site(seeded, api, people):
    ann, bob = people("employee", "ann"), people("employee", "bob")
    day = next_weekday().isoformat()
    made = api.post(
        "/api/v1/bookings",
        json={"space_id": "hq.2.r-01", "start": f"{day}T10:00", "end": f"{day}T11:00"},
        headers=bearer(bob.token),
    )
    assert made.status_code == 201, made.text

    def room(start: str, end: str) -> str:
        answer = api.get(
            f"{AT}?site=hq&start={day}T{start}&end={day}T{end}", headers=bearer(ann.token)
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert {s["floor"] for s in body["spaces"]} == {"hq-1", "hq-2", "hq-3"}
        return states(body)["hq.2.r-01"]

    assert room("10:30", "11:30") == "booked"
    assert room("09:00", "10:00") == "free", "a range ending at the start does not overlap"
    assert room("11:00", "12:00") == "free"
    assert room("09:00", "12:00") == "booked"


def problem(api: Any, token: str, query: str, status: int = 422) -> str:
    """The reason of a refused question."""
    answer = api.get(f"{AT}?{query}", headers=bearer(token))
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["detail"]
    reason: str = answer.json()["reason"]
    return reason


def test_bad_questions_get_a_reason(seeded, api, people):
    ann = people("employee", "ann")
    t = ann.token
    day = next_weekday().isoformat()
    saturday = datetime.now(AMS).date() + timedelta(days=1)
    while saturday.weekday() != 5:
        saturday += timedelta(days=1)
    far = next_weekday(30).isoformat()
    past = datetime.now(AMS).date() - timedelta(days=1)
    while past.weekday() >= 5:
        past -= timedelta(days=1)
    yesterday = past.isoformat()
    assert problem(api, t, f"site=hq&date={day}") == "bad_window"
    assert problem(api, t, f"site=hq&date={day}&part=day&start={day}T10:00") == "bad_window"
    assert problem(api, t, "site=hq") == "bad_window"
    assert problem(api, t, "site=hq&date=2026-02-30&part=day") == "validation_error"
    assert problem(api, t, f"site=hq&date={day}&part=evening") == "validation_error"
    assert problem(api, t, f"date={day}&part=day") == "validation_error"
    assert problem(api, t, f"site=hq&date={saturday.isoformat()}&part=day") == "site_closed"
    assert problem(api, t, f"site=hq&date={far}&part=day") == "too_far_ahead"
    assert problem(api, t, f"site=hq&date={yesterday}&part=day") == "in_the_past"
    assert problem(api, t, f"site=hq&start={day}T11:00&end={day}T10:00") == "bad_time_range"
    assert problem(api, t, f"site=hq&start={day}T18:30&end={day}T20:00") == (
        "outside_opening_hours"
    )
    assert problem(api, t, f"site=hq&start={day}T07:00&end={day}T18:00") == "too_long"
    assert problem(api, t, f"site=nowhere&date={day}&part=day", 404) == "site_not_found"
    assert problem(api, t, f"site=hq&floor=dalfsen-0&date={day}&part=day", 404) == (
        "floor_not_found"
    )
    # Screens read live state; this question is for people who book.
    assert problem(api, seeded.signage_token, f"site=hq&date={day}&part=day", 403) == (
        "role_not_allowed"
    )


def test_todays_running_part_counts_from_now(seeded, api, people):
    always_open(seeded.url)
    ann = people("employee", "ann")
    today = datetime.now(AMS).date().isoformat()
    answer = api.get(f"{AT}?site=hq&floor=hq-1&date={today}&part=day", headers=bearer(ann.token))
    assert answer.status_code == 200, answer.text
    start = datetime.fromisoformat(answer.json()["start"])
    assert abs((start - datetime.now(AMS)).total_seconds()) < 120


def test_one_query_for_the_spaces_whatever_their_number(seeded, api, people):
    ann = people("employee", "ann")
    day = next_weekday().isoformat()
    engine = api.app.state.runtime.engine
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    # A first request warms the token cache, whose lookup is not part of the question.
    api.get(f"{AT}?site=hq&date={day}&part=day", headers=bearer(ann.token))
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        counts = []
        for where in ("floor=dalfsen-0&site=dalfsen", "floor=hq-1&site=hq", "site=hq"):
            seen.clear()
            answer = api.get(f"{AT}?{where}&date={day}&part=day", headers=bearer(ann.token))
            assert answer.status_code == 200, answer.text
            counts.append((len(answer.json()["spaces"]), len(seen)))
            joined = [s for s in seen if "booking" in s.lower() and "space" in s.lower()]
            assert len(joined) == 1, seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    sizes = [n for n, _ in counts]
    assert sizes[0] < sizes[1] < sizes[2], counts
    # Site, floor, policy, opening hours, holidays, and the one join: not per space.
    assert counts[0][1] == counts[1][1] <= 6, f"queries must not grow with spaces: {counts}"
    assert counts[2][1] <= counts[1][1], counts
