"""Unknown telemetry figures stay null end to end; staleness follows each device's heartbeat."""

import json

import pytest

from contract import ContractError as InvalidMessage
from gateway.health import HealthTracker
from gateway.live import LiveState, stale_limit_ms
from gateway.messages import Assignment, PresenceMessage, RegistryMessage, parse_message

T0 = 1_764_410_400_000
STALE_MS = 180_000
TOPIC = "werkplek/v1/hq/d-1/telemetry"


def telemetry(**fields):
    body = {"v": 1, "uptime_s": 5, "rssi": None, "heap_free": None, "fw": "0.1.0"}
    body.update(fields)
    return json.dumps(body).encode()


def test_null_rssi_heap_and_battery_are_accepted_and_stay_null_in_health():
    msg = parse_message(TOPIC, telemetry(battery_v=None), T0)
    assert (msg.rssi, msg.heap_free, msg.battery_v) == (None, None, None)
    health = HealthTracker(30_000)
    health.apply(msg)
    body = json.loads(health.get("hq", "d-1").payload())
    assert body["rssi"] is None and body["heap_free"] is None and body["battery_v"] is None
    assert body["uptime_s"] == 5 and body["fw"] == "0.1.0"
    assert body["online"] is True  # a device that sends telemetry is connected


def test_known_figures_still_pass_and_are_range_checked():
    msg = parse_message(TOPIC, telemetry(rssi=-71, heap_free=1000, battery_v=3.31), T0)
    assert (msg.rssi, msg.heap_free, msg.battery_v) == (-71, 1000, 3.31)
    with pytest.raises(InvalidMessage) as caught:
        parse_message(TOPIC, telemetry(rssi=-300), T0)
    assert caught.value.reason == "out_of_range"


@pytest.mark.parametrize(
    ("fields", "drop", "reason"),
    [
        ({"rssi": "weak"}, None, "bad_type"),
        ({"heap_free": True}, None, "bad_type"),
        ({"heap_free": -1}, None, "out_of_range"),
        ({}, "rssi", "missing_field"),  # the key is required; null says "unknown"
        ({}, "heap_free", "missing_field"),
    ],
)
def test_broken_optional_figures_are_rejected_with_a_reason(fields, drop, reason):
    body = json.loads(telemetry(**fields))
    if drop:
        del body[drop]
    with pytest.raises(InvalidMessage) as caught:
        parse_message(TOPIC, json.dumps(body).encode(), T0)
    assert caught.value.reason == reason
    assert drop is None or drop in caught.value.detail


def assignment(device, heartbeat_s):
    return Assignment("hq", device, "s-" + device, "desk", "hq-1", None, heartbeat_s)


def test_stale_limit_is_the_larger_of_the_default_and_three_heartbeats():
    assert stale_limit_ms(STALE_MS, None) == STALE_MS
    assert stale_limit_ms(STALE_MS, assignment("d", 30)) == STALE_MS
    assert stale_limit_ms(STALE_MS, assignment("d", 60)) == STALE_MS
    assert stale_limit_ms(STALE_MS, assignment("d", 61)) == 183_000
    assert stale_limit_ms(STALE_MS, assignment("d", 3600)) == 3 * 3600 * 1000


def test_a_battery_node_is_stale_only_after_three_missed_heartbeats():
    live = LiveState(STALE_MS)
    for device, heartbeat_s in (("mains", 60), ("battery", 1200)):
        a = assignment(device, heartbeat_s)
        live.apply_registry(RegistryMessage("hq", device, a, T0), T0)
        reading = PresenceMessage("hq", device, 1, 7, T0, T0, False, "pir", None, None, False, T0)
        live.apply_presence(reading, T0)
    changed = live.tick(T0 + STALE_MS + 1)
    assert [(s.space_id, s.state, s.reason) for s in changed] == [("s-mains", "unknown", "stale")]
    assert live.tick(T0 + 3_600_000) == []  # exactly 3 x 1200 s: the battery node is fresh
    (state,) = live.tick(T0 + 3_600_001)
    assert (state.space_id, state.state, state.reason) == ("s-battery", "unknown", "stale")


def test_health_carries_each_devices_stale_limit():
    health = HealthTracker(30_000, STALE_MS)
    health.seen("hq", "d-1", T0)
    assert json.loads(health.get("hq", "d-1").payload())["stale_after_s"] == 180
    health.apply(RegistryMessage("hq", "d-1", assignment("d-1", 3600), T0))
    assert json.loads(health.get("hq", "d-1").payload())["stale_after_s"] == 10_800
    health.apply(RegistryMessage("hq", "d-1", None, T0))  # unassigned: the default again
    assert json.loads(health.get("hq", "d-1").payload())["stale_after_s"] == 180
