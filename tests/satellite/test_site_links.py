"""A satellite site whose bridge link is down: unknown centrally, never free; bookings refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.availability.hub import AvailabilityHub
from backend.availability.live import LiveState
from backend.availability.service import FloorInfo, SpaceInfo
from backend.availability.sites import SITE_OFFLINE, SiteOffline
from contract import space_state_topic
from contract.bridge import bridge_state_topic, encode_bridge_state
from tests.backend.conftest import always_open, bearer


def space(space_id: str, site: str, floor: str) -> SpaceInfo:
    return SpaceInfo(space_id, site, floor, "desk", space_id, "A", False, 1, False, False, True)


class Clock:
    def __init__(self) -> None:
        self.ms = 1_800_000_000_000

    def __call__(self) -> int:
        return self.ms


def state(site: str, space_id: str, value: str, at: int) -> bytes:
    return (
        f'{{"v":1,"site":"{site}","space_id":"{space_id}","state":"{value}","since":{at},'
        f'"updated":{at},"reason":"sensor","devices":["d-0001"]}}'
    ).encode()


@pytest.fixture
def hub() -> tuple[AvailabilityHub, Clock]:
    clock = Clock()
    made = AvailabilityHub(LiveState(), stale_after_s=180, clock_ms=clock)
    made.set_registry(
        [space("sat.0.d-001", "sat", "sat-0"), space("hq.1.d-001", "hq", "hq-1")],
        [FloorInfo("sat-0", "sat", "Begane grond", 0), FloorInfo("hq-1", "hq", "1", 1)],
    )
    made.on_connection(True)
    made.on_message("werkplek/v1/_gateway/gw-1/status", b"online")
    for site, sid in (("sat", "sat.0.d-001"), ("hq", "hq.1.d-001")):
        made.on_message(space_state_topic(site, sid), state(site, sid, "vacant", clock.ms))
    return made, clock


def test_a_site_whose_link_drops_turns_unknown_and_back(hub: tuple[AvailabilityHub, Clock]) -> None:
    made, clock = hub
    assert made.view["sat.0.d-001"].availability == "free"
    clock.ms += 5000
    down_at = clock.ms
    made.on_message(bridge_state_topic("sat"), encode_bridge_state(False))
    sat = made.view["sat.0.d-001"]
    assert (sat.availability, sat.reason, sat.since, sat.until) == (
        "unknown",
        SITE_OFFLINE,
        down_at,
        None,
    )
    assert made.view["hq.1.d-001"].availability == "free"  # other sites carry on
    assert made.summaries["sat-0"].free_desks == 0 and made.summaries["sat-0"].unknown == 1
    # States that still arrive (late, from the centre's own gateway) do not make it free.
    made.on_message(
        space_state_topic("sat", "sat.0.d-001"), state("sat", "sat.0.d-001", "vacant", clock.ms)
    )
    assert made.view["sat.0.d-001"].reason == SITE_OFFLINE
    with pytest.raises(SiteOffline) as refused:
        made.site_links.check_bookable("sat")
    assert refused.value.status_code == 503 and refused.value.retry_after
    made.site_links.check_bookable("hq")
    clock.ms += 5000
    made.on_message(bridge_state_topic("sat"), encode_bridge_state(True))
    assert made.view["sat.0.d-001"].availability == "free"
    made.site_links.check_bookable("sat")


def test_broken_or_cleared_bridge_states(hub: tuple[AvailabilityHub, Clock]) -> None:
    made, _clock = hub
    made.on_message(bridge_state_topic("sat"), b"offline")
    made.on_message("werkplek/v1/Sat/_bridge/state", b"0")
    assert made.site_links.rejected == {"bad_status": 1, "bad_topic": 1}
    assert made.view["sat.0.d-001"].availability == "free"
    made.on_message(bridge_state_topic("sat"), b"0")
    assert made.view["sat.0.d-001"].availability == "unknown"
    made.on_message(bridge_state_topic("sat"), b"")  # site taken out of the bridge set-up
    assert made.view["sat.0.d-001"].availability == "free"
    assert made.site_links.links == {}


def test_a_lost_broker_keeps_its_own_reason(hub: tuple[AvailabilityHub, Clock]) -> None:
    made, _clock = hub
    made.on_message(bridge_state_topic("sat"), b"0")
    made.on_connection(False)
    assert made.view["sat.0.d-001"].reason == "disconnected"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_central_booking_for_a_cut_off_site_is_refused_with_the_reason(
    seeded, api, people
) -> None:
    always_open(seeded.url)
    ann, bob = people("employee", "ann"), people("employee", "bob")
    hub: AvailabilityHub = api.app.state.runtime.hub
    api.portal.call(hub.on_message, bridge_state_topic("dalfsen"), b"0")
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    body = {"date": tomorrow, "part": "morning"}
    refused = api.post(
        "/api/v1/bookings", json={"space_id": "dalfsen.0.d-001", **body}, headers=bearer(ann.token)
    )
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.headers["retry-after"] == "60"
    problem = refused.json()
    assert problem["reason"] == SITE_OFFLINE
    assert "dalfsen" in problem["detail"] and "connection is back" in problem["detail"]
    series = {"space_id": "dalfsen.0.r-01", "first_date": tomorrow, "start_time": "10:00"}
    series |= {"end_time": "11:00", "count": 2}
    refused = api.post("/api/v1/booking-series", json=series, headers=bearer(ann.token))
    assert refused.status_code == 503 and refused.json()["reason"] == SITE_OFFLINE, refused.text
    central = api.post(
        "/api/v1/bookings", json={"space_id": "hq.1.d-001", **body}, headers=bearer(ann.token)
    )
    assert central.status_code == 201, central.text
    api.portal.call(hub.on_message, bridge_state_topic("dalfsen"), b"1")
    again = api.post(
        "/api/v1/bookings", json={"space_id": "dalfsen.0.d-001", **body}, headers=bearer(bob.token)
    )
    assert again.status_code == 201, again.text
