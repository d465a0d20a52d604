"""Door-panel actions on the room's running meeting: check in, end early, extend. Only the
room's own panel may; ending frees the room at once; an extension never runs into the next
booking or past closing time. The clock is fixed at 12:00 local so every hour of the day
gives the same answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from backend.bookings.models import Booking
from backend.database import make_engine, make_session_factory
from backend.main import create_app
from tests.backend.conftest import Person, SeededDb, always_open, bearer

AMS = ZoneInfo("Europe/Amsterdam")
ROOM, OTHER = "hq.1.r-02", "hq.1.r-03"
NOON = dt.datetime.combine(dt.date.today(), dt.time(12, 0), AMS).astimezone(dt.UTC)


def at(hh: int, mm: int) -> dt.datetime:
    """Today's local ``hh:mm`` in UTC."""
    return dt.datetime.combine(NOON.astimezone(AMS).date(), dt.time(hh, mm), AMS).astimezone(dt.UTC)


@pytest.fixture
def client(seeded: SeededDb, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    always_open(seeded.url)
    monkeypatch.setattr("backend.bookings.panel.utcnow", lambda: NOON)
    with TestClient(create_app(seeded.settings())) as api:
        yield api


def insert(seeded: SeededDb, owner: Person, space: str, start: dt.datetime, end: dt.datetime,
           status: str = "booked") -> int:  # fmt: skip
    """A meeting as someone booked it earlier (straight into the database)."""
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            booking = Booking(
                space_id=space, site_id="hq", space_kind="meeting_room", user_id=owner.id,
                start_at=start, end_at=end, local_day=start.astimezone(AMS).date(),
                status=status, title="Teamoverleg",
            )  # fmt: skip
            session.add(booking)
            session.commit()
            return booking.id
    finally:
        engine.dispose()


def panel(api: TestClient, seeded: SeededDb, space: str) -> str:
    response = api.post(f"/api/v1/spaces/{space}/panel-token", headers=bearer(seeded.admin_token))
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def act(api: TestClient, token: str, space: str, action: str, **body: Any) -> Any:
    return api.post(
        f"/api/v1/spaces/{space}/panel/{action}", json=body or None, headers=bearer(token)
    )


def test_end_early_frees_the_room_and_only_its_own_panel_may(
    client: TestClient, seeded: SeededDb, people: Any
) -> None:
    ann = people("employee", "ann")
    meeting = insert(seeded, ann, ROOM, at(11, 30), at(13, 0))
    mine, theirs = panel(client, seeded, ROOM), panel(client, seeded, OTHER)
    # Not the room's panel: another room's panel, a screen, the booker's own session.
    for token in (theirs, seeded.signage_token, ann.token):
        refused = act(client, token, ROOM, "end")
        assert refused.status_code == 403, refused.text
        assert refused.json()["reason"] in ("not_this_panel", "role_not_allowed")
    assert seeded.query(f"SELECT status FROM booking WHERE id = {meeting}") == [("booked",)]

    ended = act(client, mine, ROOM, "end")
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "released"
    assert "Teamoverleg" not in ended.text and "ann" not in ended.text.lower()
    row = seeded.query(f"SELECT status, end_reason FROM booking WHERE id = {meeting}")
    assert row == [("released", "ended_at_panel")]
    # Free now: gone from today's list, and the panel can book it from now.
    today = client.get(f"/api/v1/spaces/{ROOM}/today", headers=bearer(mine)).json()
    assert today["bookings"] == []
    booked = client.post(
        f"/api/v1/spaces/{ROOM}/book-now", json={"minutes": 30}, headers=bearer(mine)
    )
    assert booked.status_code == 201, booked.text
    # Nothing running in the other room: a clear 404, never a 500.
    nothing = act(client, theirs, OTHER, "end")
    assert nothing.status_code == 404 and nothing.json()["reason"] == "no_current_booking"
    assert act(client, mine, "hq.1.d-001", "end").json()["reason"] == "not_a_room"
    assert act(client, mine, "nope", "end").status_code == 404


def test_extend_stops_at_the_next_booking_and_at_closing_time(
    client: TestClient, seeded: SeededDb, people: Any
) -> None:
    ann = people("employee", "ann")
    insert(seeded, ann, ROOM, at(11, 30), at(12, 15))
    insert(seeded, ann, ROOM, at(12, 30), at(13, 0))
    mine, theirs = panel(client, seeded, ROOM), panel(client, seeded, OTHER)
    refused = act(client, theirs, ROOM, "extend", minutes=15)
    assert refused.status_code == 403 and refused.json()["reason"] == "not_this_panel"
    assert act(client, mine, ROOM, "extend", minutes=45).status_code == 422
    assert act(client, mine, ROOM, "extend").status_code == 422  # no body

    longer = act(client, mine, ROOM, "extend", minutes=15)
    assert longer.status_code == 200, longer.text
    assert dt.datetime.fromisoformat(longer.json()["end"]) == at(12, 30)
    # The next meeting starts at 12:30: no further.
    taken = act(client, mine, ROOM, "extend", minutes=15)
    assert taken.status_code == 409 and taken.json()["reason"] == "space_taken"

    # In the other room, the building closes at 12:40 today: 30 more minutes is refused.
    insert(seeded, ann, OTHER, at(11, 45), at(12, 20))
    from datetime import time as clock

    from backend.bookings import policy as policies
    from backend.bookings.schemas import OpeningDay

    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            days = [OpeningDay(weekday=d, opens=clock(7), closes=clock(12, 40)) for d in range(7)]
            policies.set_opening_hours(session, "hq", days, "test")
    finally:
        engine.dispose()
    closed = act(client, theirs, OTHER, "extend", minutes=30)
    assert closed.status_code == 422 and closed.json()["reason"] == "outside_opening_hours"
    assert act(client, theirs, OTHER, "extend", minutes=15).status_code == 200


def test_check_in_confirms_the_meeting_that_started(
    client: TestClient, seeded: SeededDb, people: Any
) -> None:
    ann = people("employee", "ann")
    meeting = insert(seeded, ann, ROOM, at(12, 5), at(13, 0))  # starts in 5 minutes: allowed
    mine = panel(client, seeded, ROOM)
    done = act(client, mine, ROOM, "check-in")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "checked_in"
    assert act(client, mine, ROOM, "check-in").status_code == 200  # twice is fine
    row = seeded.query(f"SELECT status, check_in_method FROM booking WHERE id = {meeting}")
    assert row == [("checked_in", "panel")]
    assert act(client, panel(client, seeded, OTHER), ROOM, "check-in").status_code == 403
