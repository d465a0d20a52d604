"""Writer -> reader per message kind, across the services that send and receive it.

Each test builds a message with the writing service's own code and reads it with
the receiving service's own code, then compares what came out with what went in.
Device messages (firmware -> gateway): tests/firmware/test_golden_messages.py.
"""

from __future__ import annotations

from backend.availability.live import LiveState as BackendLive
from backend.health.service import HealthStore
from backend.registry_publisher import device_registry_topic, registry_payload
from backend.spaces.models import Device, Space
from contract.device import PresenceMessage, StatusMessage, TelemetryMessage
from contract.lease import Lease, parse_lease
from contract.registry import Assignment, RegistryMessage
from contract.status import SyncMarker, parse_sync
from contract.topics import gateway_status_topic
from gateway.health import HealthTracker
from gateway.lease import lease_owner, lease_payload
from gateway.live import LiveState as GatewayLive
from gateway.messages import parse_message
from gateway.mqtt import MqttLink
from gateway.settings import parse_mqtt_url

NOW = 1764410460000


def assignment(device="d-0001", space="hq.1.d-001", zone=None):
    return Assignment("hq", device, space, "desk", "hq-1", zone, 600)


def presence(device="d-0001", occupied=True, seq=1):
    return PresenceMessage(
        "hq", device, seq, 7, NOW - 1000, NOW - 1000, occupied, "radar", 0.9, "change", False, NOW
    )


def test_registry_backend_writes_gateway_reads():
    device = Device(id="d-0001", site_id="hq", space_id="hq.1.d-001", source="radar")
    device.heartbeat_s = 900
    space = Space(id="hq.1.d-001", site_id="hq", floor_id="hq-1", kind="focus_room", zone="Stilte")
    topic = device_registry_topic(device)
    assert topic is not None
    msg = parse_message(topic, registry_payload(device, space), NOW)
    assert isinstance(msg, RegistryMessage)
    assert msg.assignment == Assignment(
        "hq", "d-0001", "hq.1.d-001", "focus_room", "hq-1", "Stilte", 900
    )
    gone = parse_message(topic, registry_payload(device, None), NOW)
    assert isinstance(gone, RegistryMessage) and gone.assignment is None


def test_space_state_gateway_writes_backend_reads():
    gateway = GatewayLive(stale_after_ms=180_000)
    written = gateway.apply_registry(RegistryMessage("hq", "d-0001", assignment(), NOW), NOW)
    written += gateway.apply_registry(
        RegistryMessage("hq", "d-0002", assignment("d-0002"), NOW), NOW
    )
    written += gateway.apply_presence(presence(), NOW)[1]
    written += gateway.apply_status(StatusMessage("hq", "d-0002", False, NOW), NOW)
    written += gateway.apply_registry(
        RegistryMessage("hq", "d-0003", assignment("d-0003", "hq.1.d-003"), NOW), NOW
    )
    assert {s.state for s in written} == {"unknown", "occupied"}
    backend = BackendLive()
    for state in written:
        assert backend.handle_message(state.topic, state.payload(), NOW) == state.space_id
        assert backend.states[state.space_id] == state  # the same SpaceState, field for field
    assert backend.rejected == {}


def test_health_gateway_writes_backend_reads():
    tracker = HealthTracker(interval_ms=1000)
    tracker.apply(RegistryMessage("hq", "d-0001", assignment(), NOW))
    tracker.apply(presence())
    tracker.apply(TelemetryMessage("hq", "d-0001", 3600, -71, 80_000, "0.2.0", 3.9, NOW))
    tracker.error("hq", "d-0001", "bad_json", NOW)
    tracker.apply(StatusMessage("hq", "d-0009", False, NOW))  # never registered, no data
    store = HealthStore(stale_after_s=180)
    for record in tracker.records():
        store.on_message(record.record().topic, record.payload())
    assert store.rejected == {}
    for record in tracker.records():
        assert store.records[(record.site, record.device_id)] == record.record()
    assert store.records[("hq", "d-0001")].clock_corrected == 0
    assert store.records[("hq", "d-0001")].last_error == "bad_json"


def test_gateway_status_gateway_writes_backend_reads():
    backend = BackendLive()
    for online in (True, False):
        link = MqttLink(
            parse_mqtt_url("mqtt://127.0.0.1:1"),
            client_id="round-trip",
            protocol="5",
            status_topic=gateway_status_topic("gw-1"),
            subscriptions=[],
            on_message=lambda m: None,
            online_on_connect=online,
        )
        topic = gateway_status_topic("gw-1")
        backend.handle_message(topic, link._status_on_connect, NOW)
        assert backend.gateways == {"gw-1": online}
    backend.handle_message(gateway_status_topic("gw-1"), b"", NOW)  # cleared
    assert backend.gateways == {}


def test_lease_gateway_writes_gateways_read():
    payload = lease_payload("gw-a", NOW, 10_000)
    assert parse_lease(payload) == Lease("gw-a", NOW, NOW + 10_000)
    assert lease_owner(payload) == "gw-a"
    assert lease_owner(b"{") is None  # the state machine reads garbage as no lease


def test_sync_marker_gateway_writes_itself_reads():
    link = MqttLink(
        parse_mqtt_url("mqtt://127.0.0.1:1"),
        client_id="round-trip",
        protocol="5",
        status_topic=gateway_status_topic("gw-1"),
        subscriptions=[],
        on_message=lambda m: None,
    )
    for generation in (1, 2**40):
        marker = SyncMarker(link.run_id, generation)
        assert parse_sync(marker.payload()) == marker
