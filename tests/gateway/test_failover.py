"""Two live gateways against real Mosquitto: kill -9 of the owner, the standby takes over."""

import os
import signal
import time

import pytest

from contract import device_topic, gateway_status_topic, registry_topic, space_state_topic
from gateway.lease import LEASE_TOPIC, lease_owner
from tests.gateway.mqtt_helpers import TestClient
from tests.gateway.stream import spawn_gateway, stop_process
from tests.services import wait_until

pytestmark = pytest.mark.integration

SITE, DEVICE, SPACE = "hq", "d-0007", "hq.1.d-007"
STATE = space_state_topic(SITE, SPACE)
GATEWAYS = ("gw-live-a", "gw-live-b")


def live_env(broker, state_dir, gateway_id):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WERKPLEK_")}
    env.update(
        WERKPLEK_MQTT_URL=broker.url,
        WERKPLEK_GATEWAY_ID=gateway_id,
        WERKPLEK_GATEWAY_ROLE="live",  # live gateways fail over by default
        WERKPLEK_STATE_DIR=str(state_dir),
        WERKPLEK_HISTORY_PATH=str(state_dir / "unused.sqlite3"),
    )
    return env


def presence(seq, occupied):
    body = {"v": 1, "seq": seq, "boot": 5, "occupied": occupied, "source": "radar"}
    return body | {"ts": int(time.time() * 1000)}


def statuses_at(log, end):
    """Each gateway's last status in the watcher's log up to index ``end``."""
    seen = {}
    for topic, payload, _ in log[:end]:
        for gw in GATEWAYS:
            if topic == gateway_status_topic(gw):
                seen[gw] = payload
    return seen


@pytest.mark.serial  # asserts the takeover time (`make test` runs it alone)
def test_kill_9_of_the_owner_the_standby_takes_over_and_no_space_shows_free_meanwhile(
    tmp_path, mosquitto_factory, record_property
):
    broker = mosquitto_factory()
    watch = [gateway_status_topic(gw) for gw in GATEWAYS] + [LEASE_TOPIC, STATE]
    client = TestClient(broker, subscribe=watch)
    registry = {"v": 1, "device_id": DEVICE, "site": SITE, "space_id": SPACE, "kind": "desk"}
    registry.update(floor="hq-1", zone=None, heartbeat_s=60)
    client.publish(registry_topic(SITE, DEVICE), registry, retain=True)
    client.publish(device_topic(SITE, DEVICE, "status"), "online", retain=True)
    procs = {}

    def last(topic):
        got = client.on_topic(topic)
        return got[-1] if got else None

    try:
        procs["a"] = spawn_gateway(
            live_env(broker, tmp_path / "a", GATEWAYS[0]), tmp_path / "a.log"
        )
        wait_until(lambda: last(gateway_status_topic(GATEWAYS[0])) == b"online", 15, what="a owns")
        procs["b"] = spawn_gateway(
            live_env(broker, tmp_path / "b", GATEWAYS[1]), tmp_path / "b.log"
        )
        wait_until(lambda: last(gateway_status_topic(GATEWAYS[1])) == b"offline", 15, what="b up")
        client.publish(device_topic(SITE, DEVICE, "presence"), presence(1, False))
        wait_until(lambda: (client.last_json(STATE) or {}).get("state") == "vacant", 5)
        time.sleep(1)  # b has settled as standby; it must not have taken over
        assert lease_owner(last(LEASE_TOPIC)) == GATEWAYS[0]
        assert last(gateway_status_topic(GATEWAYS[1])) == b"offline"

        with client.lock:
            killed_at = len(client.messages)
        os.kill(procs["a"].pid, signal.SIGKILL)
        procs["a"].wait(10)
        took = wait_until(
            lambda: last(gateway_status_topic(GATEWAYS[1])) == b"online", 10, what="takeover"
        )
        record_property("failover_takeover_s", round(took, 3))
        print(f"standby took over {took * 1000:.0f} ms after kill -9 of the owner")
        assert took < 5
        assert lease_owner(last(LEASE_TOPIC)) == GATEWAYS[1]

        with client.lock:
            log = list(client.messages)
        will = next(
            i
            for i in range(killed_at, len(log))
            if log[i][0] == gateway_status_topic(GATEWAYS[0]) and log[i][1] == b"offline"
        )
        online = next(
            i
            for i in range(will, len(log))
            if log[i][0] == gateway_status_topic(GATEWAYS[1]) and log[i][1] == b"online"
        )
        # From a's Last Will to b's "online" no gateway claims live state, so a backend
        # shows every space unknown (gateway offline), never the old "vacant" as free.
        for end in range(will + 1, online + 1):
            assert b"online" not in statuses_at(log, end).values(), log[will:online]
        # b published the space's current state before it said online.
        republished = [p for t, p, _ in log[will:online] if t == STATE]
        assert republished and b'"state":"vacant"' in republished[-1]

        # The new owner serves live state.
        client.publish(device_topic(SITE, DEVICE, "presence"), presence(2, True))
        wait_until(lambda: (client.last_json(STATE) or {}).get("state") == "occupied", 5)

        # The old owner comes back as standby and leaves the lease with b.
        procs["a"] = spawn_gateway(
            live_env(broker, tmp_path / "a", GATEWAYS[0]), tmp_path / "a.log"
        )
        wait_until(lambda: last(gateway_status_topic(GATEWAYS[0])) == b"offline", 15)
        time.sleep(1)
        assert last(gateway_status_topic(GATEWAYS[1])) == b"online"
        assert lease_owner(last(LEASE_TOPIC)) == GATEWAYS[1]
    finally:
        for proc in procs.values():
            stop_process(proc)
        client.close()
