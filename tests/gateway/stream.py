"""Lossless-ingest test helpers: a QoS 1 presence stream, InfluxDB counts, gateway processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from contract import device_topic

REPO = Path(__file__).resolve().parents[2]
SITE = "hq"


def presence_payload(seq: int, ts: int) -> bytes:
    body = {"v": 1, "seq": seq, "boot": 11, "ts": ts, "occupied": seq % 2 == 0, "source": "pir"}
    return json.dumps(body).encode()


class Stream:
    """Publishes ``total`` presence messages over ``devices`` devices at QoS 1, on a thread.

    Every message has its own (device, ts), so the InfluxDB point count equals the
    number of distinct messages stored.

    ``hold_at`` stops the publisher after that many messages until :meth:`release`:
    a test that kills a gateway "mid-stream" holds the stream, kills, then releases,
    so the rest is sent after the kill however slow the machine (a timed rate alone
    let a slow machine finish the whole stream first).
    """

    def __init__(
        self, broker, total: int, devices: int = 20, rate: float = 0.0, hold_at: int | None = None
    ):
        self.total = total
        self.devices = devices
        self.rate = rate
        self.sent = 0
        self.hold_at = hold_at
        self.held = threading.Event()  # set once the publisher waits at ``hold_at``
        self._released = threading.Event()
        self.base_ms = int(time.time() * 1000) - 3_600_000
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"stream-{uuid.uuid4().hex[:8]}"
        )
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Stream:
        self.thread.start()
        return self

    def _run(self) -> None:
        infos = []
        start = time.monotonic()
        for i in range(self.total):
            if i == self.hold_at:
                self.held.set()
                self._released.wait()
                start = time.monotonic() - i / self.rate if self.rate else start
            device = f"s-{i % self.devices:04d}"
            seq = i // self.devices
            topic = device_topic(SITE, device, "presence")
            infos.append(self.client.publish(topic, presence_payload(seq, self.base_ms + seq), 1))
            self.sent = i + 1
            if self.rate:
                ahead = (i + 1) / self.rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
        for info in infos:
            info.wait_for_publish(60)

    def release(self) -> None:
        """Let a stream held at ``hold_at`` go on."""
        self._released.set()

    def join(self, timeout: float = 120) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "publisher did not finish"

    def close(self) -> None:
        self._released.set()  # a test that failed while holding must not leave it waiting
        self.client.disconnect()
        self.client.loop_stop()


def influx_count(influx_db) -> int:
    body = influx_db.query('SELECT count("seq") FROM "presence"')
    series = body["results"][0].get("series") or []
    return int(series[0]["values"][0][1]) if series else 0


def gateway_env(broker, influx_db, state_dir: Path, gateway_id: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WERKPLEK_")}
    env.update(
        WERKPLEK_MQTT_URL=broker.url,
        WERKPLEK_GATEWAY_ID=gateway_id,
        WERKPLEK_STATE_DIR=str(state_dir),
        WERKPLEK_INFLUX_URL=influx_db.url,
        WERKPLEK_INFLUX_DATABASE=influx_db.database,
        WERKPLEK_BATCH_LINGER_MS="50",
    )
    env.update(extra)
    return env


def spawn_gateway(env: dict, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    log.close()
    return proc


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)
