"""Nothing is lost: kill -9 of the gateway (also while spooling), a one-minute InfluxDB outage."""

import os
import signal
import sqlite3
import time
import uuid

import pytest

from contract import device_topic, gateway_status_topic, registry_topic, space_state_topic
from gateway import Gateway, GatewaySettings
from tests.gateway.mqtt_helpers import TestClient
from tests.gateway.stream import (
    SITE,
    Stream,
    gateway_env,
    influx_count,
    spawn_gateway,
    stop_process,
)
from tests.services import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def broker(mosquitto_factory):
    return mosquitto_factory()


def test_kill_9_mid_stream_then_restart_loses_nothing(tmp_path, broker, influx_db, record_property):
    total = 20_000
    gateway_id = "gw-kill-" + uuid.uuid4().hex[:6]
    env = gateway_env(broker, influx_db, tmp_path / "state", gateway_id)
    status = gateway_status_topic(gateway_id)
    watcher = TestClient(broker, subscribe=[status])
    proc = spawn_gateway(env, tmp_path / "gateway.log")
    stream = None
    try:
        wait_until(lambda: watcher.on_topic(status)[-1:] == [b"online"], 15, what="online")
        # The publisher holds at half-way until the kill: mid-stream by construction.
        stream = Stream(broker, total, rate=5000, hold_at=total // 2).start()
        wait_until(lambda: influx_count(influx_db) >= total // 5, 60, what="first fifth stored")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        sent_at_kill, stored_at_kill = stream.sent, influx_count(influx_db)
        stream.release()
        print(f"killed with {sent_at_kill} sent, {stored_at_kill} stored")
        assert stored_at_kill < total and sent_at_kill < total, "the kill was not mid-stream"
        stream.join()
        proc = spawn_gateway(env, tmp_path / "gateway.log")
        took = wait_until(
            lambda: influx_count(influx_db) >= total, 90, interval=0.2, what="all stored"
        )
        print(f"all {total} stored {took:.1f} s after the restart")
        record_property("kill9_recovery_s", round(took, 2))
        time.sleep(1)
        assert influx_count(influx_db) == total
    finally:
        stop_process(proc)
        if stream is not None:
            stream.close()
        watcher.close()


@pytest.mark.slow
def test_influx_down_for_a_minute_loses_nothing_and_live_state_keeps_flowing(
    tmp_path, broker, influx_db, influxdb, record_property
):
    rate, outage_s = 200, 60
    total = rate * (outage_s + 10)
    settings = GatewaySettings(
        mqtt_url=broker.url,
        gateway_id="gw-" + uuid.uuid4().hex[:8],
        state_dir=tmp_path / "state",
        influx_url=influx_db.url,
        influx_database=influx_db.database,
        batch_linger_ms=50,
        tick_interval_ms=100,
    )
    gateway = Gateway(settings)
    gateway.start()
    watch = TestClient(broker, subscribe=[space_state_topic(SITE, "hq.9.d-001")])
    stream = None
    try:
        wait_until(gateway.connected.is_set, 5)
        registry = {
            "v": 1,
            "device_id": "live-1",
            "site": SITE,
            "space_id": "hq.9.d-001",
            "kind": "desk",
            "floor": "hq-9",
            "zone": "b",
            "heartbeat_s": 600,
        }
        watch.publish(registry_topic(SITE, "live-1"), registry, retain=True)
        stream = Stream(broker, total, rate=rate).start()
        wait_until(lambda: influx_count(influx_db) > 0, 10, what="storing")
        influxdb.stop()
        down_at = time.monotonic()
        # Live state does not wait for the history store.
        now = int(time.time() * 1000)
        body = {"v": 1, "seq": 1, "boot": 5, "ts": now, "occupied": True, "source": "radar"}
        watch.publish(device_topic(SITE, "live-1", "presence"), body)
        topic = space_state_topic(SITE, "hq.9.d-001")
        live_s = wait_until(
            lambda: (watch.last_json(topic) or {}).get("state") == "occupied", 5, what="live"
        )
        print(f"live state during the outage after {live_s * 1000:.0f} ms")
        record_property("live_during_outage_ms", round(live_s * 1000))
        assert live_s < 1.0
        wait_until(lambda: gateway.counters().get("spooled", 0) > rate, 10, what="spooling")
        time.sleep(max(0.0, outage_s - (time.monotonic() - down_at)))
        spooled = gateway.counters()["spool_pending"]
        print(f"after {outage_s} s down: {spooled} points in the spool")
        assert spooled > rate * (outage_s - 10)
        influxdb.start()
        back = time.monotonic()
        stream.join()
        wait_until(lambda: influx_count(influx_db) >= total + 1, 60, interval=0.2, what="replayed")
        took = time.monotonic() - back
        print(f"all {total + 1} points stored {took:.1f} s after InfluxDB returned")
        record_property("replay_after_outage_s", round(took, 2))
        wait_until(lambda: gateway.counters()["spool_pending"] == 0, 10, what="spool empty")
        assert influx_count(influx_db) == total + 1
        points = influx_db.query("SELECT * FROM presence WHERE device = 'live-1'")
        columns = points["results"][0]["series"][0]["columns"]
        row = dict(zip(columns, points["results"][0]["series"][0]["values"][0], strict=True))
        assert (row["zone"], row["space"]) == ("b", "hq.9.d-001")
    finally:
        if not influxdb.ping():
            influxdb.start()
        gateway.stop()
        if stream is not None:
            stream.close()
        watch.close()


def test_kill_9_while_spooling_during_an_outage_then_restart_loses_nothing(
    tmp_path, broker, influx_db, influxdb, record_property
):
    total = 6000
    gateway_id = "gw-spool-" + uuid.uuid4().hex[:6]
    env = gateway_env(broker, influx_db, tmp_path / "state", gateway_id)
    status = gateway_status_topic(gateway_id)
    watcher = TestClient(broker, subscribe=[status])
    spool_file = tmp_path / "state" / f"spool-{gateway_id}.sqlite3"
    proc = spawn_gateway(env, tmp_path / "gateway.log")
    stream = None
    try:
        wait_until(lambda: watcher.on_topic(status)[-1:] == [b"online"], 15, what="online")
        influxdb.stop()
        # The publisher holds at half-way until the kill: mid-stream by construction.
        stream = Stream(broker, total, rate=2000, hold_at=total // 2).start()

        def spooled():
            if not spool_file.exists():
                return 0
            with sqlite3.connect(spool_file) as conn:
                return conn.execute("SELECT COUNT(*) FROM spool").fetchone()[0]

        wait_until(lambda: spooled() >= total // 3, 30, what="a third spooled")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        on_disk, sent_at_kill = spooled(), stream.sent
        stream.release()
        print(f"killed with {sent_at_kill} sent, {on_disk} points in the spool file")
        assert sent_at_kill < total, "the kill was not mid-stream"
        stream.join()
        influxdb.start()
        proc = spawn_gateway(env, tmp_path / "gateway.log")
        took = wait_until(lambda: influx_count(influx_db) >= total, 60, interval=0.2)
        print(f"all {total} stored {took:.1f} s after the restart")
        record_property("spool_kill_recovery_s", round(took, 2))
        wait_until(lambda: spooled() == 0, 10, what="spool drained")
        assert influx_count(influx_db) == total
    finally:
        stop_process(proc)
        if not influxdb.ping():
            influxdb.start()
        if stream is not None:
            stream.close()
        watcher.close()
