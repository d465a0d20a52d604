"""What the gateway refuses or accepts about a device's identity, against a real Mosquitto.

The broker's own refusals (client id takeover, size limit, site-bound ACL) are
tested with the deployed configuration in tests/deploy/test_broker_security.py;
these are the same rules at the gateway, which must hold whatever the broker lets
through, and the dedupe of devices that send neither ``boot`` nor ``ts``.
"""

import time
import uuid

import pytest

from contract import SUB_SPACE_STATE, device_topic, registry_topic, space_state_topic
from gateway import Gateway, GatewaySettings
from tests.gateway.mqtt_helpers import TestClient
from tests.services import wait_until

pytestmark = pytest.mark.integration

SITE = "hq"
DEVICE = "d-0001"
SPACE = "hq.1.d-001"
STATE = space_state_topic(SITE, SPACE)


def registration():
    return {
        "v": 1,
        "device_id": DEVICE,
        "site": SITE,
        "space_id": SPACE,
        "kind": "desk",
        "floor": "hq-1",
        "zone": None,
        "heartbeat_s": 600,
    }


def bare_presence(occupied, seq):
    """A contract-conformant message with neither ``boot`` nor a device clock."""
    return {"v": 1, "seq": seq, "ts": None, "occupied": occupied, "source": "pir"}


@pytest.fixture
def setup(tmp_path, mosquitto_factory):
    broker = mosquitto_factory()
    settings = GatewaySettings(
        mqtt_url=broker.url,
        gateway_id="gw-" + uuid.uuid4().hex[:8],
        state_dir=tmp_path / "state",
        history_path=tmp_path / "history.sqlite3",
        batch_linger_ms=20,
        tick_interval_ms=50,
    )
    gateway = Gateway(settings)
    gateway.start()
    client = TestClient(broker, subscribe=[SUB_SPACE_STATE])
    try:
        wait_until(gateway.connected.is_set, 10, what="gateway connected")
        client.publish(registry_topic(SITE, DEVICE), registration(), retain=True)
        client.publish(device_topic(SITE, DEVICE, "status"), "online", retain=True)
        wait_until(lambda: gateway.counters().get("received.registry", 0) >= 1, 10)
        yield gateway, client
    finally:
        client.close()
        gateway.stop()


def state(client):
    return (client.last_json(STATE) or {}).get("state")


def test_a_device_without_boot_or_clock_keeps_its_messages_after_a_reboot(setup):
    gateway, client = setup
    topic = device_topic(SITE, DEVICE, "presence")
    for seq in range(4):  # occupied, vacant, occupied, vacant
        client.publish(topic, bare_presence(seq % 2 == 0, seq))
    wait_until(lambda: gateway.counters().get("stored", 0) == 4, 20, what="first boot stored")
    wait_until(lambda: state(client) == "vacant", 10, what="vacant after the first boot")
    client.publish(topic, bare_presence(False, 3))  # a redelivery within the epoch
    wait_until(lambda: gateway.counters().get("duplicate", 0) == 1, 10, what="duplicate seen")

    # Reboot: seq restarts at 0, and the first message says occupied. Before the
    # fix it was dropped as a duplicate of the old seq 0 and the space stayed vacant.
    client.publish(topic, bare_presence(True, 0))
    wait_until(lambda: state(client) == "occupied", 10, what="occupied after the reboot")
    client.publish(topic, bare_presence(True, 1))
    client.publish(topic, bare_presence(False, 2))
    wait_until(lambda: gateway.counters().get("stored", 0) == 7, 20, what="second boot stored")
    wait_until(lambda: state(client) == "vacant", 10, what="live state follows the device")
    counts = gateway.counters()
    assert counts.get("duplicate", 0) == 1
    assert counts.get("seq_restart", 0) == 1


def test_a_device_publishing_under_another_site_is_dead_lettered(setup):
    gateway, client = setup
    client.publish(device_topic(SITE, DEVICE, "presence"), bare_presence(True, 0))
    wait_until(lambda: state(client) == "occupied", 10, what="occupied")
    # Live state comes first; the reading is stored after the writer's linger.
    wait_until(lambda: gateway.counters().get("stored", 0) == 1, 10, what="reading stored")
    stored = gateway.counters()["stored"]

    foreign = device_topic("dalfsen", DEVICE, "presence")
    client.publish(foreign, bare_presence(False, 1))
    client.publish(device_topic("dalfsen", DEVICE, "status"), "offline")
    wait_until(lambda: gateway.counters().get("rejected.wrong_site", 0) == 2, 10)
    letters = gateway.dead_letters(10)
    assert {d.reason for d in letters} == {"wrong_site"}
    assert foreign in {d.topic for d in letters}
    assert gateway.counters()["stored"] == stored
    # Counted on the device's own health record, not on one under the foreign site.
    (record,) = [h for h in gateway.health() if h["device_id"] == DEVICE]
    assert (record["site"], record["last_error"]) == (SITE, "wrong_site")

    # Its own site still works, and the refused messages changed nothing meanwhile.
    client.publish(device_topic(SITE, DEVICE, "presence"), bare_presence(True, 2))
    wait_until(lambda: gateway.counters()["stored"] == stored + 1, 10, what="stored")
    assert state(client) == "occupied"


def test_an_empty_or_oversized_status_does_not_change_the_live_state(setup):
    gateway, client = setup
    client.publish(device_topic(SITE, DEVICE, "presence"), bare_presence(True, 0))
    wait_until(lambda: state(client) == "occupied", 10, what="occupied")
    status = device_topic(SITE, DEVICE, "status")
    client.publish(status, b"", retain=True)
    client.publish(status, b"x" * 60_000, retain=True)
    client.publish(status, b"online\n", retain=True)
    wait_until(lambda: gateway.counters().get("rejected", 0) == 3, 10, what="three rejected")
    counts = gateway.counters()
    assert (counts.get("rejected.bad_status"), counts.get("rejected.too_large")) == (2, 1)
    time.sleep(0.3)  # a tick or more: nothing may turn the space unknown
    assert state(client) == "occupied"
