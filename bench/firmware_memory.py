"""Heap of one node in steady state under the MicroPython unix port, and its message rate.

Runs the firmware image (``.mpy``, as flashed) in the real ``micropython``
against a private Mosquitto: a fused PIR + LD2410 node (the radar driver parses
real frames from a simulated UART) that changes state every second, sends
heartbeats every second and telemetry every 2 s. ``gc.mem_alloc()`` after
``gc.collect()`` is sampled once a second after a warm-up.

Figures (all from the same run):
- baseline: the bare interpreter with asyncio loaded;
- code: after importing the firmware modules (bytecode lives on the heap
  unless frozen into the board's firmware);
- steady: the whole heap while the node runs (max over the samples); the node's
  own state is steady minus code.
- rate: QoS 1 presence messages per second one node sustains (one in flight,
  each waiting for its PUBACK), against a paho client doing the same in CPython.

Run with ``python -m bench firmware_memory``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import paho.mqtt.client as mqtt

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.services import Mosquitto, make_tempdir  # noqa: E402
from werkplek import firmware_build  # noqa: E402

LIMIT_BYTES = 40 * 1024

SCRIPT = r"""
import sys, gc
sys.path.insert(0, %(image)r)
import asyncio
gc.collect()
baseline = gc.mem_alloc()
from board_sim import FilePresence, SimUART
from fusion import Fusion
from ld2410 import LD2410
from node import Node
from pir import PIR
gc.collect()
code = gc.mem_alloc()
pir_file = %(dir)r + "/pir"
radar_file = %(dir)r + "/radar"
def put(path, text):
    with open(path, "w") as fh:
        fh.write(text)
put(pir_file, "0")
put(radar_file, "0 0 0 0 0")
cfg = {"device_id": "m-0001", "site": "bench", "broker_host": %(host)r, "broker_port": %(port)d,
       "source": "fused", "confirm_ms": 100, "hold_ms": 300, "heartbeat_s": 1,
       "telemetry_s": 2, "keepalive_s": 10}
node = Node(cfg, Fusion(PIR(FilePresence(pir_file), retrigger_ms=0), LD2410(SimUART(radar_file))))
samples = []
async def main():
    task = asyncio.create_task(node.run())
    await asyncio.wait_for(node.client.up.wait(), 10)
    for second in range(%(seconds)d):
        on = second %% 2 == 0
        put(pir_file, "1" if on else "0")
        put(radar_file, "3 80 60 80 50" if on else "0 0 0 0 0")
        await asyncio.sleep_ms(1000)
        gc.collect()
        if second >= 3:
            samples.append(gc.mem_alloc())
    sent = node.stats["sent"]
    # Message rate: keep the queue topped up and count PUBACKed messages.
    n = %(rate_messages)d
    start = time.ticks_ms()
    target = sent + n
    while node.stats["sent"] < target:
        while len(node.queue) < 16:
            node._enqueue("heartbeat", time.ticks_ms())
        await asyncio.sleep_ms(0)
    took = time.ticks_diff(time.ticks_ms(), start)
    node.stop()
    await task
    print("RESULT " + json.dumps({"baseline": baseline, "code": code, "samples": samples,
        "sent": sent, "changes": node.stats["changes"], "rate_ms": took, "rate_n": n}))
import time, json
asyncio.run(main())
"""


def run_node(
    micropython: str, host: str, port: int, seconds: int = 12, rate_messages: int = 1000
) -> dict[str, object]:
    """Run the node image in ``micropython``; return its figures (bytes, counts, ms)."""
    with tempfile.TemporaryDirectory(prefix="wp-mem-") as tmp:
        image = Path(tmp) / "image"
        firmware_build.build(image, board=False)
        script = Path(tmp) / "bench.py"
        script.write_text(
            SCRIPT
            % {
                "image": str(image),
                "dir": tmp,
                "host": host,
                "port": port,
                "seconds": seconds,
                "rate_messages": rate_messages,
            }
        )
        result = subprocess.run(
            [micropython, str(script)], capture_output=True, text=True, timeout=seconds + 120
        )
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("RESULT ")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"node bench failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")
    figures: dict[str, object] = json.loads(lines[-1][7:])
    samples = figures["samples"]
    assert isinstance(samples, list) and samples
    figures["steady"] = max(samples)
    figures["rate_per_s"] = figures["rate_n"] / (figures["rate_ms"] / 1000)  # type: ignore[operator]
    return figures


def paho_rate(host: str, port: int, messages: int = 1000) -> float:
    """QoS 1 messages per second of a paho client waiting for each PUBACK (the baseline)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-rate-{time.time_ns()}")
    client.connect(host, port)
    client.loop_start()
    payload = json.dumps({"v": 1, "seq": 0, "ts": None, "occupied": True, "source": "pir"})
    start = time.perf_counter()
    for _ in range(messages):
        client.publish("werkplek/v1/bench/p-0001/presence", payload, qos=1).wait_for_publish(5)
    took = time.perf_counter() - start
    client.loop_stop()
    client.disconnect()
    return messages / took


def main() -> None:
    micropython = str(Path(sys.executable).parent / "micropython")
    broker = Mosquitto(workdir=make_tempdir("bench-fw") / "mosquitto")
    broker.start()
    try:
        figures = run_node(micropython, "127.0.0.1", broker.port, seconds=20, rate_messages=2000)
        baseline_rate = paho_rate("127.0.0.1", broker.port, 2000)
    finally:
        broker.stop()
    steady, code, base = figures["steady"], figures["code"], figures["baseline"]
    assert isinstance(steady, int) and isinstance(code, int) and isinstance(base, int)
    print("firmware_memory (MicroPython unix port, 64-bit; gc.mem_alloc after gc.collect)")
    print(f"  baseline interpreter      {base / 1024:6.1f} KB")
    print(f"  + firmware code (.mpy)    {(code - base) / 1024:6.1f} KB")
    print(f"  steady state, whole heap  {steady / 1024:6.1f} KB  (limit {LIMIT_BYTES // 1024} KB)")
    print(f"  node state (steady - code){(steady - code) / 1024:6.1f} KB")
    print(f"  presence changes in run   {figures['changes']}, messages sent {figures['sent']}")
    rate = figures["rate_per_s"]
    print(f"  QoS 1 rate, one node      {rate:8.0f} msg/s")
    print(f"  QoS 1 rate, paho (CPython){baseline_rate:8.0f} msg/s  (baseline)")
    print("  verdict: " + ("PASS" if steady < LIMIT_BYTES else "OVER the 40 KB limit"))
