"""Two history gateways on an MQTT v5 shared subscription; one is killed under load."""

import os
import re
import signal
import time

import httpx
import pytest

from contract import gateway_history_topic
from gateway.app import subscriptions
from gateway.settings import GatewaySettings
from tests.gateway.mqtt_helpers import TestClient
from tests.gateway.stream import Stream, gateway_env, influx_count, spawn_gateway, stop_process
from tests.services import free_port, wait_until

STORED = re.compile(r'^werkplek_gateway_events_total\{event="stored"\} ([0-9.e+]+)$', re.M)


def stored(port):
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
    except httpx.HTTPError:
        return None
    match = STORED.search(text)
    return int(float(match.group(1))) if match else 0


def points_received(influx_db):
    """Points InfluxDB has been sent since it started, rewrites included."""
    series = influx_db.server.query("SHOW STATS FOR 'write'")["results"][0]["series"][0]
    return dict(zip(series["columns"], series["values"][0], strict=True))["pointReq"]


def test_roles_choose_the_subscriptions():
    history = subscriptions(GatewaySettings(gateway_role="history", share_group="grp"))
    assert history == [
        "$share/grp/werkplek/v1/+/+/presence",
        "werkplek/v1/+/_registry/+",
        "$share/grp/werkplek/v1/+/+/telemetry",
        "werkplek/v1/_gateway/gw-1/sync",  # last: its marker follows the retained registry
    ]
    live = subscriptions(GatewaySettings(gateway_role="live"))
    assert all(not s.startswith("$share") for s in live) and len(live) == 7
    assert live[-2] == "werkplek/v1/_gateway/_live/lease"  # live gateways fail over
    assert len(subscriptions(GatewaySettings(gateway_role="all"))) == 6  # one gateway: no lease


@pytest.mark.integration
def test_shared_subscription_one_gateway_killed_under_load_no_loss_no_double_write(
    tmp_path, mosquitto_factory, influx_db, record_property
):
    broker = mosquitto_factory()
    total = 20_000
    ports = {"a": free_port(), "b": free_port()}
    envs = {
        name: gateway_env(
            broker,
            influx_db,
            tmp_path / name,
            f"gw-share-{name}",
            WERKPLEK_GATEWAY_ROLE="history",
            WERKPLEK_SHARE_GROUP="hist",
            WERKPLEK_METRICS_PORT=str(ports[name]),
        )
        for name in ports
    }
    status = [gateway_history_topic(f"gw-share-{n}") for n in ports]  # history liveness
    watcher = TestClient(broker, subscribe=status)
    procs = {n: spawn_gateway(envs[n], tmp_path / f"{n}.log") for n in ports}
    points_before = points_received(influx_db)
    stream = None
    try:
        for topic in status:
            wait_until(lambda t=topic: watcher.on_topic(t)[-1:] == [b"online"], 15, what=topic)
        # Half the stream goes out before the kill and half after it, by construction:
        # the publisher holds at half-way until b is dead, however slow the machine.
        stream = Stream(broker, total, rate=4000, hold_at=total // 2).start()
        wait_until(lambda: (stored(ports["b"]) or 0) >= 2000, 60, what="b storing")
        os.kill(procs["b"].pid, signal.SIGKILL)
        procs["b"].wait(10)
        a_at_kill = stored(ports["a"])
        sent_at_kill = stream.sent
        stream.release()
        assert sent_at_kill <= total // 2, "the kill was not under load"
        # The survivor keeps storing new messages while b is gone.
        wait_until(lambda: stored(ports["a"]) >= a_at_kill + 2000, 60, what="a takes load")
        stream.join()
        procs["b"] = spawn_gateway(envs["b"], tmp_path / "b.log")
        took = wait_until(lambda: influx_count(influx_db) >= total, 60, interval=0.2)
        time.sleep(1)
        count = influx_count(influx_db)
        writes = points_received(influx_db) - points_before
        print(f"count {count}/{total}; points sent to InfluxDB {writes}; done {took:.1f} s after")
        record_property("shared_writes", writes)
        assert count == total  # nothing lost, no point twice
        # Each message was written by one gateway; only what b had stored but not yet
        # acked when it died (at most the broker's in-flight window) is written again.
        assert total <= writes <= total + 1000
    finally:
        for proc in procs.values():
            stop_process(proc)
        if stream is not None:
            stream.close()
        watcher.close()


@pytest.mark.integration
def test_live_role_publishes_space_states_and_stores_nothing(tmp_path, mosquitto_factory):
    import uuid

    from contract import device_topic, registry_topic, space_state_topic
    from gateway import Gateway

    broker = mosquitto_factory()
    gateway = Gateway(
        GatewaySettings(
            mqtt_url=broker.url,
            gateway_id="gw-" + uuid.uuid4().hex[:8],
            gateway_role="live",
            state_dir=tmp_path / "state",
            history_path=tmp_path / "history.sqlite3",
        )
    )
    gateway.start()
    topic = space_state_topic("hq", "hq.1.d-001")
    client = TestClient(broker, subscribe=[topic])
    try:
        wait_until(gateway.connected.is_set, 5)
        registry = {"v": 1, "device_id": "d-1", "site": "hq", "space_id": "hq.1.d-001"}
        registry.update(kind="desk", floor="hq-1", zone=None, heartbeat_s=60)
        client.publish(registry_topic("hq", "d-1"), registry, retain=True)
        body = {"v": 1, "seq": 1, "boot": 1, "ts": None, "occupied": True, "source": "pir"}
        client.publish(device_topic("hq", "d-1", "presence"), body)
        wait_until(lambda: (client.last_json(topic) or {}).get("state") == "occupied", 5)
        assert gateway.counters()["stored"] == 0
        assert not (tmp_path / "history.sqlite3").exists()
    finally:
        client.close()
        gateway.stop()
