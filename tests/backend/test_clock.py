"""The backend's one clock and its process-wide hook (the demo's simulated day).

Production never installs a clock: ``utcnow`` is the real time. The demo installs its
SimClock; then the booking rules, the door panel, the scheduler's sensor evidence and the
``Werkplek-Time`` header that the pages learn from all follow the simulated day.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from backend import clock
from backend.availability.live import LiveState
from backend.bookings.evidence import sensor_views
from backend.main import create_app
from backend.middleware.clock import HEADER
from tests.backend.conftest import SeededDb, bearer
from werkplek.fleet import SimClock

AMS = ZoneInfo("Europe/Amsterdam")
ROOM = "hq.1.r-02"


def _working_day(hour: int) -> dt.datetime:
    """Next week's Monday at local ``hour``:00."""
    today = dt.date.today()
    monday = today + dt.timedelta(days=7 - today.weekday())
    return dt.datetime.combine(monday, dt.time(hour, 0), AMS)


@pytest.fixture
def installed() -> Iterator[None]:
    """Whatever a test installs is taken out again, as the demo does when it stops."""
    yield
    clock.use(None)


def test_without_a_hook_the_clock_is_the_real_one() -> None:
    before = dt.datetime.now(dt.UTC)
    now = clock.utcnow()
    after = dt.datetime.now(dt.UTC)
    assert before <= now <= after and now.tzinfo is dt.UTC
    assert not clock.simulated() and clock.rate() == 1.0
    wall = dt.datetime(2031, 3, 3, 9, 0, tzinfo=AMS)
    assert clock.from_wall(wall) == wall and clock.from_wall(wall).tzinfo is dt.UTC


def test_an_installed_sim_clock_is_every_now_until_taken_out(installed: None) -> None:
    start = _working_day(9)
    sim = SimClock(start, speed=60.0)
    clock.use(sim.now, sim.from_wall, rate=sim.speed)
    now = clock.utcnow()
    assert now.tzinfo is dt.UTC
    # The simulated morning, not the real time (a minute of real time is an hour here).
    assert dt.timedelta(0) <= now - start < dt.timedelta(minutes=60)
    assert clock.simulated() and clock.rate() == 60.0
    # A wall moment one real second ago is a simulated minute ago.
    wall = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    gap = clock.utcnow() - clock.from_wall(wall)
    assert dt.timedelta(seconds=59) <= gap < dt.timedelta(minutes=30)
    clock.use(None)
    assert not clock.simulated() and clock.rate() == 1.0
    assert abs(clock.utcnow() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)


def test_the_facility_reports_keep_the_wall_clock_of_the_history(installed: None) -> None:
    """The sensor history is stamped in real time; its reports read it in that frame."""
    from backend.facility.deps import clock as facility_clock

    sim = SimClock(_working_day(10), speed=1.0)
    clock.use(sim.now, sim.from_wall)
    assert clock.utcnow() - dt.datetime.now(dt.UTC) > dt.timedelta(hours=1)
    for now in (clock.wall_utcnow(), facility_clock()):
        assert abs(now - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)


def test_a_naive_clock_or_a_rate_of_zero_is_refused(installed: None) -> None:
    with pytest.raises(ValueError, match="rate"):
        clock.use(lambda: dt.datetime.now(dt.UTC), rate=0)
    clock.use(lambda: dt.datetime(2031, 3, 3, 9, 0))
    with pytest.raises(ValueError, match="aware"):
        clock.utcnow()


def test_sensor_since_is_read_in_the_clock_s_time(installed: None) -> None:
    """'Vacant since' (wall time from the gateway) compares with the simulated now."""
    sim = SimClock(_working_day(10), speed=1.0)
    clock.use(sim.now, sim.from_wall)
    wall_ms = int(time.time() * 1000)
    body = {"v": 1, "site": "hq", "space_id": ROOM, "state": "vacant", "since": wall_ms - 120_000,
            "updated": wall_ms, "reason": "sensor", "devices": ["d-0001"]}  # fmt: skip
    live = LiveState()
    live.set_connected(True, wall_ms)
    topic = f"werkplek/v1/hq/_space/{ROOM}/state"
    assert live.handle_message(topic, json.dumps(body).encode(), wall_ms) is not None
    view = sensor_views(live, wall_ms, 180_000)[ROOM]
    assert view.state == "vacant" and view.since is not None
    # Two minutes before the simulated now, not two minutes before the real time.
    gap = clock.utcnow() - view.since
    assert dt.timedelta(seconds=119) <= gap < dt.timedelta(seconds=150)


@pytest.fixture
def client(seeded: SeededDb, installed: None) -> Iterator[TestClient]:
    with TestClient(create_app(seeded.settings())) as api:
        yield api


def test_the_door_panel_books_on_the_installed_clock_and_says_its_time(
    client: TestClient, seeded: SeededDb
) -> None:
    token = client.post(f"/api/v1/spaces/{ROOM}/panel-token", headers=bearer(seeded.admin_token))
    assert token.status_code == 201, token.text
    panel = bearer(token.json()["token"])

    night = _working_day(3)
    clock.use(lambda: night)
    closed = client.post(f"/api/v1/spaces/{ROOM}/book-now", json={"minutes": 30}, headers=panel)
    assert closed.status_code == 422, closed.text
    assert closed.json()["reason"] == "outside_opening_hours"
    assert closed.headers[HEADER] == str(int(night.timestamp() * 1000))

    monday = _working_day(10)
    clock.use(lambda: monday, rate=30.0)
    booked = client.post(f"/api/v1/spaces/{ROOM}/book-now", json={"minutes": 30}, headers=panel)
    assert booked.status_code == 201, booked.text
    assert booked.headers[HEADER] == f"{int(monday.timestamp() * 1000)}; rate=30"
    today = client.get(f"/api/v1/spaces/{ROOM}/today", headers=panel)
    assert today.status_code == 200, today.text

    clock.use(None)
    real = client.get("/api/v1/health")
    stamped = int(real.headers[HEADER])
    assert abs(stamped - time.time() * 1000) < 5_000
