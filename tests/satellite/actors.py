"""Small programs the network test runs in its namespaces: `python -m tests.satellite.actors`.

- ``node``: a simulated sensor node (several device ids) publishing contract presence
  at QoS 1 with per-device ``seq`` to the site broker; writes every acknowledged
  ``(device, seq)`` to a file, so "sent" means "taken by the site broker".
- ``screen``: a live screen on the site broker: every space state it receives is one
  JSON line (receive time, space, state).
- ``proxy``: a TCP proxy that delays every byte by a fixed time each way (this kernel
  has no netem); it runs on the central side in front of the broker's bridge listener.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from contract import device_topic


def now_ms() -> int:
    return int(time.time() * 1000)


def run_node(args: argparse.Namespace) -> None:
    """Publish presence round-robin over the devices until SIGTERM or ``--count``."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    #: mid -> (device, seq); paho's message ids wrap at 65535, far above a test's count.
    published: dict[int, tuple[str, int]] = {}
    acked: set[int] = set()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"node-{os.getpid()}")
    client.max_inflight_messages_set(20)
    client.max_queued_messages_set(0)
    client.on_publish = lambda _c, _u, mid, _rc, _p: acked.add(mid)
    client.connect(args.host, args.port)
    client.loop_start()
    devices = args.devices.split(",")
    seqs = dict.fromkeys(devices, 0)
    last_ts = dict.fromkeys(devices, 0)
    interval = 1.0 / args.rate
    sent = 0
    next_at = time.monotonic()
    while not stop.is_set() and (args.count == 0 or sent < args.count) and sent < 60_000:
        device = devices[sent % len(devices)]
        seq = seqs[device]
        seqs[device] += 1
        ts = max(now_ms(), last_ts[device] + 1)
        last_ts[device] = ts
        body = {
            "v": 1,
            "seq": seq,
            "boot": args.boot,
            "ts": ts,
            "occupied": seq % 2 == 0,
            "source": "radar",
            "reason": "change",
        }
        topic = device_topic(args.site, device, "presence")
        published[client.publish(topic, json.dumps(body), qos=1).mid] = (device, seq)
        sent += 1
        next_at += interval
        stop.wait(max(0.0, next_at - time.monotonic()))
    deadline = time.monotonic() + 30
    while len(acked & published.keys()) < len(published) and time.monotonic() < deadline:
        time.sleep(0.05)
    client.disconnect()
    client.loop_stop()
    lines = [f"{device} {seq}\n" for mid, (device, seq) in published.items() if mid in acked]
    args.out.write_text("".join(lines) + "done\n")


def run_screen(args: argparse.Namespace) -> None:
    """Write every space state of the site as one JSON line until SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    out = open(args.out, "a", buffering=1)  # noqa: SIM115 - open for the screen's whole run

    def on_connect(client: Any, _u: Any, _f: Any, _rc: Any, _p: Any) -> None:
        client.subscribe(f"werkplek/v1/{args.site}/_space/+/state", qos=1)

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        try:
            body = json.loads(msg.payload)
        except ValueError:
            return
        line = {"t": now_ms(), "space": body.get("space_id"), "state": body.get("state")}
        out.write(json.dumps(line) + "\n")

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"screen-{os.getpid()}")
    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(args.host, args.port)
    client.loop_start()
    stop.wait()
    client.disconnect()
    client.loop_stop()
    out.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def sender() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            writer.write(data)
            await writer.drain()

    task = asyncio.create_task(sender())
    try:
        while True:
            data = await reader.read(65536)
            await queue.put((time.monotonic() + delay, data))
            if not data:
                break
        await task
    except (ConnectionError, OSError):
        task.cancel()
    finally:
        writer.close()


async def _proxy(args: argparse.Namespace) -> None:
    delay = args.delay_ms / 1000

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(args.to_host, args.to_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            _pipe(reader, up_writer, delay), _pipe(up_reader, writer, delay), return_exceptions=True
        )

    server = await asyncio.start_server(handle, args.host, args.port)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="actors")
    sub = parser.add_subparsers(dest="actor", required=True)
    node = sub.add_parser("node")
    node.add_argument("--host", default="127.0.0.1")
    node.add_argument("--port", type=int, required=True)
    node.add_argument("--site", required=True)
    node.add_argument("--devices", required=True, help="comma-separated device ids")
    node.add_argument("--rate", type=float, default=4.0, help="messages per second in all")
    node.add_argument("--count", type=int, default=0, help="stop after this many (0: SIGTERM)")
    node.add_argument("--boot", type=int, default=1)
    node.add_argument("--out", type=Path, required=True)
    screen = sub.add_parser("screen")
    screen.add_argument("--host", default="127.0.0.1")
    screen.add_argument("--port", type=int, required=True)
    screen.add_argument("--site", required=True)
    screen.add_argument("--out", type=Path, required=True)
    proxy = sub.add_parser("proxy")
    proxy.add_argument("--host", required=True)
    proxy.add_argument("--port", type=int, required=True)
    proxy.add_argument("--to-host", default="127.0.0.1")
    proxy.add_argument("--to-port", type=int, required=True)
    proxy.add_argument("--delay-ms", type=float, default=40.0)
    args = parser.parse_args(argv)
    if args.actor == "node":
        run_node(args)
    elif args.actor == "screen":
        run_screen(args)
    else:
        asyncio.run(_proxy(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
