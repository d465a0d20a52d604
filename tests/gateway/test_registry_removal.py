"""A device removed from the registry loses its retained health record and its live state."""

import json
import time
import uuid

import pytest

from contract import device_topic, health_topic, registry_topic, space_state_topic
from gateway import Gateway, GatewaySettings
from tests.gateway.mqtt_helpers import TestClient
from tests.services import wait_until

pytestmark = pytest.mark.integration

SITE = "hq"


def registration(device, space):
    body = {"v": 1, "device_id": device, "site": SITE, "space_id": space, "kind": "desk"}
    return body | {"floor": "hq-1", "zone": None, "heartbeat_s": 60}


def settings(broker, tmp_path):
    return GatewaySettings(
        mqtt_url=broker.url,
        gateway_id="gw-" + uuid.uuid4().hex[:8],
        state_dir=tmp_path / "state",
        history_path=tmp_path / "history.sqlite3",
        batch_linger_ms=20,
        tick_interval_ms=50,
        health_interval_s=0.1,
    )


def retained(broker, topic):
    """What a client subscribing now gets on ``topic`` (None: nothing retained)."""
    late = TestClient(broker, subscribe=[topic])
    time.sleep(0.3)  # retained messages come right after the SUBACK
    got = late.on_topic(topic)
    late.close()
    return got[-1] if got else None


def test_clearing_the_registry_record_clears_health_and_live_state(tmp_path, mosquitto_factory):
    broker = mosquitto_factory()
    gateway = Gateway(settings(broker, tmp_path))
    gateway.start()
    device, space = "d-0100", "hq.1.d-100"
    client = TestClient(
        broker, subscribe=[health_topic(SITE, device), space_state_topic(SITE, space)]
    )
    try:
        wait_until(gateway.connected.is_set, 5)
        client.publish(registry_topic(SITE, device), registration(device, space), retain=True)
        body = {"v": 1, "seq": 1, "boot": 2, "ts": None, "occupied": True, "source": "pir"}
        client.publish(device_topic(SITE, device, "presence"), body)
        wait_until(lambda: client.last_json(health_topic(SITE, device)), 5, what="health")
        assert json.loads(retained(broker, health_topic(SITE, device)))["space_id"] == space

        client.publish(registry_topic(SITE, device), b"", retain=True)  # removed
        took = wait_until(
            lambda: client.on_topic(health_topic(SITE, device))[-1:] == [b""], 5, what="cleared"
        )
        print(f"health record cleared {took * 1000:.0f} ms after the registry record")
        assert retained(broker, health_topic(SITE, device)) is None
        assert all(h["device_id"] != device for h in gateway.health())
        state = client.last_json(space_state_topic(SITE, space))
        assert (state["state"], state["reason"], state["devices"]) == ("unknown", "no_data", [])
        assert gateway.counters()["health_cleared"] == 1
        time.sleep(0.3)  # the next health rounds must not bring the record back
        assert retained(broker, health_topic(SITE, device)) is None
    finally:
        client.close()
        gateway.stop()


def test_a_health_record_left_from_before_of_a_device_no_longer_registered_is_cleared(
    tmp_path, mosquitto_factory
):
    broker = mosquitto_factory()
    client = TestClient(broker)
    kept, gone = "d-0200", "d-0201"
    client.publish(registry_topic(SITE, kept), registration(kept, "hq.1.d-200"), retain=True)
    for device in (kept, gone):  # records of an earlier gateway run
        record = {"v": 1, "site": SITE, "device_id": device, "online": True}
        client.publish(health_topic(SITE, device), record, retain=True)
    gateway = Gateway(settings(broker, tmp_path))
    gateway.registry_settle_s = 0.5
    gateway.start()
    try:
        took = wait_until(lambda: retained(broker, health_topic(SITE, gone)) is None, 10)
        print(f"stale health record cleared {took:.1f} s after start")
        assert retained(broker, health_topic(SITE, kept)) is not None
        assert gateway.counters()["health_cleared"] == 1
    finally:
        client.close()
        gateway.stop()
