"""Availability questions: free quiet desks now, rooms for N people for an hour, nearest site."""

from __future__ import annotations

import json

import pytest

from backend.availability.hub import AvailabilityHub
from backend.availability.live import LiveState
from backend.availability.queries import free_desks, free_rooms, nearest_sites
from backend.availability.service import load_registry
from backend.database import make_engine, make_session_factory
from backend.errors import NotFound
from contract import space_state_topic
from tests.backend.conftest import bearer

NOW = 1_900_000_000_000


def feed(hub: AvailabilityHub, space_id: str, state: str) -> None:
    site = space_id.split(".")[0]
    body = {"v": 1, "site": site, "space_id": space_id, "state": state, "since": NOW - 60_000,
            "updated": NOW, "reason": "sensor", "devices": ["d-0001"]}  # fmt: skip
    hub.on_message(space_state_topic(site, space_id), json.dumps(body).encode())


@pytest.fixture
def hub(seeded) -> AvailabilityHub:
    engine = make_engine(seeded.url)
    with make_session_factory(engine)() as session:
        spaces, floors = load_registry(session)
    engine.dispose()
    live = LiveState()
    live.set_connected(True, NOW)
    hub = AvailabilityHub(live, stale_after_s=180, clock_ms=lambda: NOW)
    hub.set_registry(spaces, floors)
    for space in spaces:
        feed(hub, space.space_id, "vacant")
    return hub


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_free_quiet_desks_on_a_floor(hub):
    quiet = {d["space_id"] for d in free_desks(hub, "hq-2", quiet=True)}
    assert len(quiet) == 13 and all(".2.d-" in s for s in quiet)
    feed(hub, "hq.2.d-030", "occupied")  # a walk-in shows occupied
    hub.set_marks({"hq.2.d-031": (NOW + 3_600_000, None)})  # booked, nobody there yet
    assert hub.view["hq.2.d-030"].availability == "occupied"
    assert hub.view["hq.2.d-031"].availability == "booked"
    assert hub.view["hq.2.d-031"].until == NOW + 3_600_000
    left = {d["space_id"] for d in free_desks(hub, "hq-2", quiet=True)}
    assert left == quiet - {"hq.2.d-030", "hq.2.d-031"}
    assert all(d["standing"] for d in free_desks(hub, "hq-2", standing=True))
    with pytest.raises(NotFound):
        free_desks(hub, "hq-9")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_rooms_for_six_free_for_the_next_hour(hub):
    rooms = {r["space_id"] for r in free_rooms(hub, "hq", capacity=6, minutes=60)}
    assert rooms == {f"hq.{f}.r-0{n}" for f in (1, 2, 3) for n in (1, 2)}
    # A booking starting in 30 minutes makes a room unfit for an hour, fine for 20 minutes.
    hub.set_marks({"hq.1.r-02": (None, NOW + 30 * 60_000)})
    assert "hq.1.r-02" not in {r["space_id"] for r in free_rooms(hub, "hq", 6, 60)}
    assert "hq.1.r-02" in {r["space_id"] for r in free_rooms(hub, "hq", 6, 20)}
    assert hub.view["hq.1.r-02"].until == NOW + 30 * 60_000
    first = free_rooms(hub, "hq", 6, 60)[0]
    assert first["capacity"] == 6  # the smallest room that fits comes first


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_query_endpoints_answer(api, seeded):
    h = bearer(seeded.signage_token)
    assert api.get("/api/v1/floors/hq-1/free-desks?quiet=true", headers=h).json() == []
    assert api.get("/api/v1/floors/nope/free-desks", headers=h).status_code == 404
    assert api.get("/api/v1/rooms/free?capacity=6", headers=h).status_code == 200
    bad = api.get("/api/v1/rooms/free?capacity=0", headers=h)
    assert bad.status_code == 422 and bad.json()["reason"] == "validation_error"
    assert "capacity" in bad.json()["detail"]
    assert api.get("/api/v1/sites/nearest-free-desk?lat=52.5&lon=6.1", headers=h).json() == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_nearest_site_with_a_free_desk(hub, seeded):
    engine = make_engine(seeded.url)
    with make_session_factory(engine)() as session:
        from backend.spaces.service import list_sites

        sites = list(list_sites(session))
    engine.dispose()
    in_dalfsen = (52.508, 6.262)
    order = [s["site"] for s in nearest_sites(hub, sites, *in_dalfsen)]
    assert order == ["dalfsen", "hq"]
    for n in range(1, 9):  # Dalfsen fills up
        feed(hub, f"dalfsen.0.d-{n:03d}", "occupied")
    nearest = nearest_sites(hub, sites, *in_dalfsen)
    assert [s["site"] for s in nearest] == ["hq"] and 10 < nearest[0]["km"] < 14
