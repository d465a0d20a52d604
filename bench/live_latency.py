"""Latency from a presence message to the gateway's retained space state, against the broker.

Baseline, measured in the same run on the same private Mosquitto: a bare paho
subscriber receiving the same presence messages (one broker hop). The gateway
path is two hops plus validation, live state and a retained publish; the ratio
says what the gateway adds. Run with ``python -m bench live_latency``.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import contract  # noqa: E402
from contract.registry import Assignment, encode_registry  # noqa: E402
from gateway.app import Gateway  # noqa: E402
from gateway.settings import GatewaySettings  # noqa: E402
from tests.services import Mosquitto, make_tempdir, wait_until  # noqa: E402

SITE = "bench"
DEVICES = 50
ROUNDS = 20  # messages per device


def _client(name: str, port: int) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {
        "p50": pick(0.50),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "mean": statistics.mean(samples),
    }


def _register(pub: mqtt.Client) -> None:
    for i in range(DEVICES):
        spot = Assignment(SITE, f"b-{i:04d}", f"bench.s-{i:04d}", "desk", "bench-1", None, 60)
        pub.publish(spot.topic, encode_registry(spot), qos=1, retain=True)


def _run(port: int, listen: str, key_of, sent_at: dict[str, float], done: threading.Event):
    samples: list[float] = []
    expected = DEVICES * ROUNDS

    def on_message(_c, _u, msg):
        if msg.retain:
            return  # the state as it was before this run
        key = key_of(msg)
        if key in sent_at:
            samples.append(time.perf_counter() - sent_at.pop(key))
            if len(samples) >= expected:
                done.set()

    sub = _client(f"bench-sub-{listen.count('/')}-{time.time_ns()}", port)
    sub.on_message = on_message
    sub.subscribe(listen, qos=1)
    time.sleep(0.3)
    return sub, samples


def measure(port: int, listen: str, key_of) -> list[float]:
    """Publish ROUNDS alternating presence changes per device; time each to ``listen``."""
    sent_at: dict[str, float] = {}
    done = threading.Event()
    sub, samples = _run(port, listen, key_of, sent_at, done)
    pub = _client(f"bench-pub-{time.time_ns()}", port)
    seq = 0
    for r in range(ROUNDS):
        for i in range(DEVICES):
            device = f"b-{i:04d}"
            occupied = r % 2 == 0
            payload = {
                "v": 1,
                "seq": seq,
                "boot": 7,
                "ts": int(time.time() * 1000),
                "occupied": occupied,
                "source": "radar",
            }
            sent_at[f"{i:04d}:{occupied}"] = time.perf_counter()
            pub.publish(contract.device_topic(SITE, device, "presence"), json.dumps(payload), qos=1)
            seq += 1
        # One change per device in flight at a time, so each state maps to one message.
        wait_until(lambda: not sent_at, 10, interval=0.001, what="round delivered")
    done.wait(10)
    for client in (pub, sub):
        client.loop_stop()
        client.disconnect()
    return samples


def main() -> None:
    workdir = make_tempdir("bench")
    broker = Mosquitto(workdir=workdir / "mosquitto")
    broker.start()
    try:
        bare = measure(
            broker.port,
            f"werkplek/v1/{SITE}/+/presence",
            lambda m: f"{m.topic.split('/')[3][2:]}:{json.loads(m.payload)['occupied']}",
        )
        gateway = Gateway(
            GatewaySettings(
                mqtt_url=broker.url,
                gateway_id="bench",
                state_dir=workdir / "gw",
                history_path=workdir / "gw" / "history.sqlite3",
            )
        )
        gateway.start()
        pub = _client("bench-registry", broker.port)
        _register(pub)
        time.sleep(0.5)
        pub.loop_stop()
        pub.disconnect()
        try:
            via_gateway = measure(
                broker.port,
                f"werkplek/v1/{SITE}/_space/+/state",
                lambda m: (
                    f"{m.topic.split('/')[4].split('-')[1]}:"
                    f"{json.loads(m.payload)['state'] == 'occupied'}"
                ),
            )
        finally:
            gateway.stop()
    finally:
        broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    base, gw = _percentiles(bare), _percentiles(via_gateway)
    print(f"live_latency: {len(bare)} / {len(via_gateway)} messages ({DEVICES} devices)")
    print(f"  {'':<24}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for name, stats in (("broker hop (baseline)", base), ("presence -> space state", gw)):
        print(f"  {name:<24}" + "".join(f"{stats[k] * 1000:>10.2f}" for k in ("p50", "p95", "p99")))
    print(f"  ratio p50 {gw['p50'] / base['p50']:.1f}x, p99 {gw['p99'] / base['p99']:.1f}x")


if __name__ == "__main__":
    main()
