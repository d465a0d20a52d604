import json

import pytest

from gateway.live import LiveState
from gateway.messages import Assignment, PresenceMessage, RegistryMessage, StatusMessage

T0 = 1_764_410_400_000
STALE_MS = 180_000


def assign(live, device, space, now=T0, site="hq"):
    # heartbeat 60 s: 3 x 60 s equals STALE_MS, so the site-wide limit applies.
    a = Assignment(site, device, space, "desk", "hq-1", None, 60)
    return live.apply_registry(RegistryMessage(site, device, a, now), now)


def unassign(live, device, now=T0, site="hq"):
    return live.apply_registry(RegistryMessage(site, device, None, now), now)


def reading(device, occupied, ts, received=None, seq=1, site="hq"):
    received = ts if received is None else received
    return PresenceMessage(
        site, device, seq, 7, ts, ts, occupied, "radar", None, None, False, received
    )


def status(device, online, now, site="hq"):
    return StatusMessage(site, device, online, now)


def only(changes):
    assert len(changes) == 1, changes
    return changes[0]


@pytest.fixture
def live():
    return LiveState(STALE_MS)


def test_new_assignment_is_unknown_without_data(live):
    state = only(assign(live, "d-1", "hq.1.d-001"))
    assert (state.state, state.reason, state.devices) == ("unknown", "no_data", ("d-1",))


def test_payload_matches_the_contract(live):
    assign(live, "d-1", "hq.1.d-001")
    _, changes = live.apply_presence(reading("d-1", True, T0 + 1000), T0 + 1000)
    state = only(changes)
    assert state.topic == "werkplek/v1/hq/_space/hq.1.d-001/state"
    assert json.loads(state.payload()) == {
        "v": 1,
        "site": "hq",
        "space_id": "hq.1.d-001",
        "state": "occupied",
        "since": T0 + 1000,
        "updated": T0 + 1000,
        "reason": "sensor",
        "devices": ["d-1"],
    }


def test_occupied_then_vacant_and_unchanged_readings_publish_nothing(live):
    assign(live, "d-1", "s1")
    _, changes = live.apply_presence(reading("d-1", True, T0 + 1000), T0 + 1000)
    assert only(changes).state == "occupied"
    applied, changes = live.apply_presence(reading("d-1", True, T0 + 2000), T0 + 2000)
    assert applied and changes == []
    _, changes = live.apply_presence(reading("d-1", False, T0 + 3000), T0 + 3000)
    state = only(changes)
    assert (state.state, state.since) == ("vacant", T0 + 3000)


def test_out_of_order_reading_does_not_overwrite_newer_state(live):
    assign(live, "d-1", "s1")
    live.apply_presence(reading("d-1", False, T0 + 5000), T0 + 5000)
    applied, changes = live.apply_presence(
        reading("d-1", True, T0 + 1000, received=T0 + 6000), T0 + 6000
    )
    assert applied is False and changes == []
    assert live.states()[0].state == "vacant"


def test_any_fresh_occupied_device_makes_the_space_occupied(live):
    assign(live, "d-1", "room")
    assign(live, "d-2", "room")
    live.apply_presence(reading("d-1", False, T0 + 1), T0 + 1)
    _, changes = live.apply_presence(reading("d-2", True, T0 + 2), T0 + 2)
    state = only(changes)
    assert (state.state, state.devices) == ("occupied", ("d-1", "d-2"))
    # d-2 goes offline: d-1 is still fresh and says vacant.
    state = only(live.apply_status(status("d-2", False, T0 + 3), T0 + 3))
    assert (state.state, state.reason) == ("vacant", "sensor")


def test_last_will_offline_turns_the_space_unknown(live):
    assign(live, "d-1", "s1")
    live.apply_presence(reading("d-1", False, T0), T0)
    state = only(live.apply_status(status("d-1", False, T0 + 10), T0 + 10))
    assert (state.state, state.reason, state.since) == ("unknown", "offline", T0 + 10)
    # Coming back online is not enough: the old reading is kept but a new one decides.
    _, changes = live.apply_presence(reading("d-1", True, T0 + 20), T0 + 20)
    assert only(changes).state == "occupied"


def test_silence_turns_the_space_unknown_stale_on_tick(live):
    assign(live, "d-1", "s1")
    live.apply_presence(reading("d-1", False, T0), T0)
    assert live.tick(T0 + STALE_MS) == []  # exactly at the limit: still fresh
    state = only(live.tick(T0 + STALE_MS + 1))
    assert (state.state, state.reason) == ("unknown", "stale")
    assert live.tick(T0 + STALE_MS + 5000) == []  # no repeat


def test_freshness_uses_receive_time_not_device_clock(live):
    assign(live, "d-1", "s1")
    # Device clock 10 minutes behind but the message just arrived: fresh.
    live.apply_presence(reading("d-1", True, T0 - 600_000, received=T0), T0)
    assert live.tick(T0 + 1000) == []
    assert live.states()[0].state == "occupied"


def test_reassignment_moves_the_device_between_spaces(live):
    assign(live, "d-1", "s1")
    live.apply_presence(reading("d-1", True, T0), T0)
    changes = {s.space_id: s for s in assign(live, "d-1", "s2", now=T0 + 5)}
    assert (changes["s1"].state, changes["s1"].devices) == ("unknown", ())
    assert (changes["s2"].state, changes["s2"].devices) == ("occupied", ("d-1",))


def test_unassignment_leaves_the_space_unknown_and_stops_updates(live):
    assign(live, "d-1", "s1")
    live.apply_presence(reading("d-1", True, T0), T0)
    state = only(unassign(live, "d-1", now=T0 + 5))
    assert (state.state, state.reason, state.devices) == ("unknown", "no_data", ())
    _, changes = live.apply_presence(reading("d-1", False, T0 + 10), T0 + 10)
    assert changes == []
    assert live.assignment("hq", "d-1") is None


def test_readings_before_assignment_count_once_assigned(live):
    live.apply_presence(reading("d-1", True, T0), T0)
    state = only(assign(live, "d-1", "s1", now=T0 + 5))
    assert state.state == "occupied"


def test_sites_are_separate(live):
    assign(live, "d-1", "s1", site="hq")
    assign(live, "d-1", "s1", site="dorp-a")
    _, changes = live.apply_presence(reading("d-1", True, T0, site="dorp-a"), T0)
    assert [(s.site, s.state) for s in changes] == [("dorp-a", "occupied")]


def test_stale_after_must_be_positive():
    with pytest.raises(ValueError):
        LiveState(0)
