"""The gateway against a real Mosquitto and a real InfluxDB 1.x."""

import json
import threading
import time
import uuid

import pytest
from paho.mqtt.client import topic_matches_sub

from contract import (
    SUB_PRESENCE,
    SUB_SPACE_STATE,
    SUB_STATUS,
    device_topic,
    gateway_status_topic,
    registry_topic,
    space_state_topic,
)
from gateway import Gateway, GatewaySettings
from history import SqliteHistory
from tests.gateway.golden import examples, payload_of
from tests.gateway.mqtt_helpers import TestClient
from tests.services import wait_until

pytestmark = pytest.mark.integration

SITE = "hq"
DEVICE = "d-0001"
SPACE = "hq.1.d-001"
STATE_TOPIC = space_state_topic(SITE, SPACE)


def registration(device=DEVICE, space=SPACE, heartbeat_s=600):
    return {
        "v": 1,
        "device_id": device,
        "site": SITE,
        "space_id": space,
        "kind": "desk",
        "floor": "hq-1",
        "zone": None,
        "heartbeat_s": heartbeat_s,
    }


def presence(occupied, seq, ts=None):
    return {"v": 1, "seq": seq, "boot": 7, "ts": ts, "occupied": occupied, "source": "radar"}


def make_gateway(tmp_path, broker, influx=None, **overrides):
    values = {
        "mqtt_url": broker.url,
        "gateway_id": overrides.pop("gateway_id", "gw-" + uuid.uuid4().hex[:8]),
        "state_dir": tmp_path / "state",
        "history_path": tmp_path / "history.sqlite3",
        "batch_linger_ms": 20,
        "tick_interval_ms": 50,
    }
    if influx is not None:
        values.update(influx_url=influx.url, influx_database=influx.database)
    values.update(overrides)
    gateway = Gateway(GatewaySettings(**values))
    gateway.start()
    wait_until(gateway.connected.is_set, 5, what="gateway connected")
    return gateway


def influx_points(influx_db, device=DEVICE):
    body = influx_db.query(f"SELECT * FROM presence WHERE device = '{device}'")
    series = body["results"][0].get("series") or []
    if not series:
        return []
    columns = series[0]["columns"]
    return [dict(zip(columns, values, strict=False)) for values in series[0]["values"]]


@pytest.fixture
def broker(mosquitto_factory):
    return mosquitto_factory()


@pytest.fixture
def client(broker):
    c = TestClient(broker, subscribe=[SUB_SPACE_STATE, "werkplek/v1/_gateway/+/status"])
    yield c
    c.close()


def test_presence_is_stored_in_influx_and_published_as_retained_space_state(
    tmp_path, broker, client, influx_db
):
    gateway = make_gateway(tmp_path, broker, influx_db)
    try:
        client.publish(registry_topic(SITE, DEVICE), registration(), retain=True)
        client.publish(device_topic(SITE, DEVICE, "status"), "online", retain=True)
        # The registry's first state: the gateway has it (on a loaded machine its retained
        # copy could otherwise reach the gateway after the reading and move ``since``).
        wait_until(lambda: client.last_json(STATE_TOPIC), 15, what="state of the registry")
        ts = int(time.time() * 1000)
        start = time.monotonic()
        client.publish(device_topic(SITE, DEVICE, "presence"), presence(True, 1, ts))
        live_s = wait_until(
            lambda: (client.last_json(STATE_TOPIC) or {}).get("state") == "occupied",
            5,
            what="occupied state published",
        )
        stored_s = wait_until(lambda: influx_points(influx_db), 5, what="point in InfluxDB")
        print(f"publish->live state {live_s * 1000:.0f} ms, ->InfluxDB {stored_s * 1000:.0f} ms")
        assert time.monotonic() - start < 5
        state = client.last_json(STATE_TOPIC)
        assert state["devices"] == [DEVICE] and state["reason"] == "sensor"
        assert state["since"] == ts and state["v"] == 1 and state["site"] == SITE
        (point,) = influx_points(influx_db)
        assert point["time"].startswith(time.strftime("%Y-%m-%dT", time.gmtime(ts / 1000)))
        assert (point["occupied"], point["seq"], point["boot"]) == (1, 1, 7)
        assert (point["space"], point["kind"], point["floor"], point["site"]) == (
            SPACE,
            "desk",
            "hq-1",
            SITE,
        )
        assert point["clock_corrected"] is False

        # The state is retained: a late subscriber (a signage screen) gets it at once.
        late = TestClient(broker, subscribe=[STATE_TOPIC])
        wait_until(lambda: late.on_topic(STATE_TOPIC), 5, what="retained state")
        assert json.loads(late.on_topic(STATE_TOPIC)[-1])["state"] == "occupied"
        late.close()

        # The gateway announces itself retained.
        status = gateway_status_topic(gateway.settings.gateway_id)
        assert client.on_topic(status)[-1] == b"online"
    finally:
        gateway.stop()
    wait_until(lambda: client.on_topic(status)[-1:] == [b"offline"], 5, what="offline status")
    assert gateway.counters()["stored"] == 1


def test_malformed_messages_are_rejected_counted_dead_lettered_and_ingest_continues(
    tmp_path, broker, client, influx_db
):
    gateway = make_gateway(tmp_path, broker, influx_db)
    # Entries on topics outside the subscriptions (werkplek/v2/...) never reach the gateway.
    golden = examples("invalid", "presence", "status")
    invalid = [
        e
        for e in golden
        if any(topic_matches_sub(sub, e["topic"]) for sub in (SUB_PRESENCE, SUB_STATUS))
    ]
    assert len(invalid) == len(golden) - 1
    try:
        client.publish(registry_topic(SITE, DEVICE), registration(), retain=True)
        for entry in invalid:
            client.publish(entry["topic"], payload_of(entry))
        client.publish(registry_topic(SITE, "d-0002"), b"{not json", retain=True)
        wait_until(
            lambda: gateway.counters()["rejected"] == len(invalid) + 1, 5, what="all rejected"
        )
        counts = gateway.counters()
        for reason in {e["reason"] for e in invalid}:
            expected = sum(1 for e in invalid if e["reason"] == reason)
            expected += 1 if reason == "bad_json" else 0
            assert counts[f"rejected.{reason}"] == expected, reason
        letters = gateway.dead_letters(100)
        assert len(letters) == len(invalid) + 1
        by_topic_payload = {(d.topic, d.payload): d.reason for d in letters}
        for entry in invalid:
            assert by_topic_payload[(entry["topic"], payload_of(entry))] == entry["reason"]
        assert "ignored" in counts  # our own gateway status is not a device status
        metrics = gateway.metrics.registry.get_sample_value(
            "werkplek_gateway_rejected_total", {"reason": "bad_json"}
        )
        assert metrics == 3

        # A huge payload is dead-lettered with its first 4 KiB only.
        client.publish(device_topic(SITE, DEVICE, "presence"), b"x" * 100_000)
        wait_until(lambda: gateway.counters()["rejected.too_large"] == 2, 5)
        assert gateway.dead_letters(1)[0].payload == b"x" * 4096

        # Still alive: a valid message afterwards is processed end to end.
        client.publish(device_topic(SITE, DEVICE, "presence"), presence(False, 2))
        wait_until(lambda: influx_points(influx_db), 5, what="valid point stored")
        wait_until(
            lambda: (client.last_json(STATE_TOPIC) or {}).get("state") == "vacant",
            5,
            what="vacant state",
        )
        (point,) = influx_points(influx_db)
        assert point["clock_corrected"] is True  # ts was null
    finally:
        gateway.stop()


def test_mqtt_311_with_sqlite_history_offline_and_stale_devices(tmp_path, broker, client):
    gateway = make_gateway(tmp_path, broker, mqtt_protocol="3.1.1", stale_after_s=0.5)
    try:
        # heartbeat 1 s: the device is stale after max(0.5 s, 3 x 1 s) = 3 s of silence.
        client.publish(registry_topic(SITE, DEVICE), registration(heartbeat_s=1), retain=True)
        client.publish(device_topic(SITE, DEVICE, "presence"), presence(True, 1))
        wait_until(lambda: (client.last_json(STATE_TOPIC) or {}).get("state") == "occupied", 5)
        # Last Will: the broker publishes offline for a dead device -> unknown at once.
        client.publish(device_topic(SITE, DEVICE, "status"), "offline", retain=True)
        wait_until(lambda: (client.last_json(STATE_TOPIC) or {}).get("reason") == "offline", 5)
        assert client.last_json(STATE_TOPIC)["state"] == "unknown"
        client.publish(device_topic(SITE, DEVICE, "status"), "online", retain=True)
        last_heard = time.monotonic()  # the gateway hears the next message after this
        client.publish(device_topic(SITE, DEVICE, "presence"), presence(False, 2))
        wait_until(lambda: (client.last_json(STATE_TOPIC) or {}).get("state") == "vacant", 5)
        # Silence: after 3 heartbeats the space turns unknown (never "free"); not after
        # the shorter site-wide stale_after_s. Timed from before the last message, so a
        # slow machine can only make it later, never earlier than the 3 s it must wait.
        wait_until(
            lambda: (client.last_json(STATE_TOPIC) or {}).get("reason") == "stale",
            15,
            what="stale",
        )
        took = time.monotonic() - last_heard
        print(f"stale after {took:.2f} s (stale_after_s=0.5, heartbeat_s=1)")
        assert took >= 3.0 - 0.05, took  # (a ms-granular clock in the gateway)
        wait_until(lambda: gateway.counters()["stored"] == 2, 5)
    finally:
        gateway.stop()
    # The gateway closed its history; read the file it left behind.
    history = SqliteHistory(tmp_path / "history.sqlite3")
    got = history.query_presence(device=DEVICE, start_ms=0, end_ms=2**62)
    assert [p.occupied for p in got] == [True, False]
    history.close()


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_messages_sent_while_the_gateway_is_down_arrive_after_restart(
    tmp_path, broker, client, protocol
):
    gateway_id = "gw-" + uuid.uuid4().hex[:8]
    gateway = make_gateway(tmp_path, broker, gateway_id=gateway_id, mqtt_protocol=protocol)
    client.publish(registry_topic(SITE, DEVICE), registration(), retain=True)
    wait_until(lambda: client.last_json(STATE_TOPIC), 5)
    gateway.stop()
    base = int(time.time() * 1000)
    for seq in range(20):
        client.publish(
            device_topic(SITE, DEVICE, "presence"), presence(seq % 2 == 0, seq, base + seq)
        )
    gateway = make_gateway(tmp_path, broker, gateway_id=gateway_id, mqtt_protocol=protocol)
    try:
        took = wait_until(lambda: gateway.counters()["stored"] >= 20, 10, what="backlog stored")
        print(f"backlog of 20 stored {took * 1000:.0f} ms after reconnect ({protocol})")
        wait_until(lambda: (client.last_json(STATE_TOPIC) or {}).get("state") == "vacant", 5)
    finally:
        gateway.stop()
    history = SqliteHistory(tmp_path / "history.sqlite3")
    got = history.query_presence(device=DEVICE, start_ms=base, end_ms=base + 100)
    assert [p.seq for p in got] == list(range(20))
    history.close()


def test_influx_outage_does_not_delay_live_state_and_points_arrive_later(
    tmp_path, broker, client, influx_db, influxdb
):
    gateway = make_gateway(tmp_path, broker, influx_db)
    try:
        client.publish(registry_topic(SITE, DEVICE), registration(), retain=True)
        wait_until(lambda: client.last_json(STATE_TOPIC), 5)
        influxdb.stop()
        base = int(time.time() * 1000)
        client.publish(device_topic(SITE, DEVICE, "presence"), presence(True, 1, base))
        live_s = wait_until(
            lambda: (client.last_json(STATE_TOPIC) or {}).get("state") == "occupied", 5
        )
        print(f"live state during InfluxDB outage: {live_s * 1000:.0f} ms")
        assert live_s < 1.0
        client.publish(device_topic(SITE, DEVICE, "presence"), presence(False, 2, base + 1))
        wait_until(lambda: (client.last_json(STATE_TOPIC) or {}).get("state") == "vacant", 5)
        wait_until(lambda: gateway.counters().get("history_retry", 0) >= 1, 5)
        assert gateway.counters()["stored"] == 0
        influxdb.start()
        took = wait_until(
            lambda: len(influx_points(influx_db)) == 2, 20, what="points after outage"
        )
        print(f"points stored {took:.1f} s after InfluxDB came back")
        assert [p["seq"] for p in influx_points(influx_db)] == [1, 2]
    finally:
        if not influxdb.ping():
            influxdb.start()
        gateway.stop()


class BlockingHistory:
    """A real SQLite history whose writes wait until the test opens the gate."""

    def __init__(self, path):
        self.inner = SqliteHistory(path)
        self.gate = threading.Event()

    def ensure_schema(self):
        self.inner.ensure_schema()

    def write_points(self, points):
        self.gate.wait(10)
        self.inner.write_points(points)

    def query_presence(self, **kw):
        return self.inner.query_presence(**kw)

    def close(self):
        self.inner.close()


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_a_message_is_acked_only_after_it_is_stored(tmp_path, broker, client, protocol):
    history = BlockingHistory(tmp_path / "history.sqlite3")
    settings = GatewaySettings(
        mqtt_url=broker.url,
        mqtt_protocol=protocol,
        gateway_id="gw-" + uuid.uuid4().hex[:8],
        state_dir=tmp_path / "state",
        batch_linger_ms=0,
        tick_interval_ms=50,
    )
    gateway = Gateway(settings, history=history)
    gateway.start()
    try:
        wait_until(gateway.connected.is_set, 5)
        ts = int(time.time() * 1000)
        client.publish(device_topic(SITE, DEVICE, "presence"), presence(True, 1, ts))
        wait_until(lambda: gateway.counters()["received.presence"] == 1, 5)
        # The store has not confirmed, so no PUBACK went out; a broker restart
        # (persistence on) must hand the same message to the gateway again.
        broker.restart()
        took = wait_until(
            lambda: gateway.counters()["received.presence"] == 2,
            15,
            what="unacked message redelivered",
        )
        print(f"redelivered {took:.2f} s after the broker restart ({protocol})")
        history.gate.set()
        wait_until(lambda: gateway.counters()["stored"] == 1, 5)
        # The redelivered copy is recognised by (device, boot, seq): written once, and
        # its ack waited for the original's write.
        assert gateway.counters()["duplicate"] == 1
        assert len(history.query_presence(device=DEVICE, start_ms=ts, end_ms=ts + 1)) == 1
        # The PUBACK is queued before "stored" is counted; a space state the gateway
        # publishes after that leaves on the same connection behind it, so once the
        # client sees that state the broker has processed the PUBACK.
        client.publish(registry_topic(SITE, DEVICE), registration(), retain=True)
        wait_until(lambda: client.last_json(STATE_TOPIC), 5, what="state after the ack")
        # Now acked: after another restart nothing comes back.
        broker.restart()
        wait_until(gateway.connected.is_set, 15)
        # Re-subscribing replays the retained registry; wait for that, then check.
        wait_until(lambda: gateway.counters()["received.registry"] == 2, 15)
        assert gateway.counters()["received.presence"] == 2
    finally:
        history.gate.set()
        gateway.stop()


@pytest.fixture
def amqtt_broker():
    """The embedded amqtt broker the demo uses (MQTT 3.1.1 only), on its own loop."""
    import asyncio

    from tests.services import free_port
    from werkplek.broker import EmbeddedBroker

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    broker = EmbeddedBroker("127.0.0.1", free_port())
    asyncio.run_coroutine_threadsafe(broker.start(), loop).result(10)
    yield broker
    asyncio.run_coroutine_threadsafe(broker.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def test_works_with_the_embedded_amqtt_broker(tmp_path, amqtt_broker):
    gateway = make_gateway(tmp_path, amqtt_broker, mqtt_protocol="3.1.1")
    client = TestClient(amqtt_broker, subscribe=[SUB_SPACE_STATE])
    try:
        client.publish(registry_topic(SITE, DEVICE), registration(), retain=True)
        client.publish(device_topic(SITE, DEVICE, "presence"), presence(True, 1))
        took = wait_until(
            lambda: (client.last_json(STATE_TOPIC) or {}).get("state") == "occupied", 5
        )
        print(f"amqtt: publish->live state {took * 1000:.0f} ms")
        client.publish(device_topic(SITE, DEVICE, "presence"), b"nonsense")
        client.publish(device_topic(SITE, DEVICE, "presence"), presence(False, 2))
        wait_until(lambda: (client.last_json(STATE_TOPIC) or {}).get("state") == "vacant", 5)
        wait_until(lambda: gateway.counters()["stored"] == 2, 5)
        assert gateway.counters()["rejected.bad_json"] == 1
    finally:
        client.close()
        gateway.stop()
