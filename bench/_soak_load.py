"""Load of the soak (``python -m bench soak``): sensor nodes and screens, in child processes.

The nodes speak the v1 contract (``tests/contracts/v1``) as the firmware does:
QoS 1 presence with ``seq``, ``boot`` and ``ts``, a retained ``online`` status.
They are lighter than the real firmware under CPython so that 2,000 fit on a
busy 2-core machine: one paho connection carries a group of nodes (the soak's
broker has a services-style listener without the per-device identity binding).
Every publish is recorded with whether the broker acked it (PUBACK), which is
what the exactly-once check counts against.

The screens are raw SSE clients (one socket each) that reconnect like
EventSource and note when each probe space's state arrived and what its
``since`` was; that gives push latency and recovery after every restart.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

#: How a node behaves: a probe toggles every second (push latency, recovery); present
#: and noshow hold one state (their desks are booked); ghost never reports (its desk is
#: booked with an unknown sensor); busy changes now and then like a normal desk.
ROLES = ("probe", "present", "noshow", "ghost", "busy")


@dataclass(frozen=True)
class Node:
    """One simulated sensor node."""

    device_id: str
    space_id: str
    role: str


@dataclass(frozen=True)
class NodePlan:
    """What one publisher process runs."""

    host: str
    port: int
    site: str
    nodes: list[Node]
    seconds: float
    heartbeat_s: float
    per_connection: int
    out: Path
    tag: str


class _Group:
    """One MQTT connection carrying a group of nodes; records every publish and its PUBACK."""

    def __init__(self, plan: NodePlan, nodes: list[Node], index: int) -> None:
        self.plan = plan
        self.nodes = nodes
        self.lock = threading.Lock()
        self.pending: dict[int, tuple[str, int]] = {}
        self.early: set[int] = set()  # acks that came before their publish call returned
        self.sent: dict[str, dict[int, int]] = {n.device_id: {} for n in nodes}  # seq -> acked
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"soak-{plan.tag}-{index}",
            protocol=mqtt.MQTTv311,
            clean_session=False,
        )
        self.client.max_queued_messages_set(0)
        self.client.max_inflight_messages_set(200)
        self.client.reconnect_delay_set(0.2, 2)
        self.client.on_publish = self._on_publish
        self.client.connect_async(plan.host, plan.port, keepalive=10)
        self.client.loop_start()

    def _on_publish(self, _c: Any, _u: Any, mid: int, _rc: Any, _p: Any) -> None:
        # paho calls this holding its own lock: never call paho while holding ours.
        with self.lock:
            key = self.pending.pop(mid, None)
            if key is None:
                self.early.add(mid)
            elif key[0]:
                self.sent[key[0]][key[1]] = 1

    def _track(self, mid: int, key: tuple[str, int]) -> None:
        with self.lock:
            if mid in self.early:
                self.early.discard(mid)
                if key[0]:
                    self.sent[key[0]][key[1]] = 1
            else:
                self.pending[mid] = key

    def publish(self, topic: str, payload: str, *, retain: bool = False) -> None:
        """An untracked QoS 1 publish (the retained status)."""
        self._track(self.client.publish(topic, payload, qos=1, retain=retain).mid, ("", 0))

    def presence(self, node: Node, seq: int, ts: int, occupied: bool, reason: str) -> None:
        """Publish one presence message and record it as sent, not yet acked."""
        body = {"v": 1, "seq": seq, "boot": BOOT, "ts": ts, "occupied": occupied,
                "source": "radar", "reason": reason}  # fmt: skip
        topic = f"werkplek/v1/{self.plan.site}/{node.device_id}/presence"
        with self.lock:
            self.sent[node.device_id][seq] = 0
        self._track(self.client.publish(topic, json.dumps(body), qos=1).mid, (node.device_id, seq))

    def unacked(self) -> int:
        """Publishes still waiting for their PUBACK."""
        with self.lock:
            return len(self.pending)


BOOT = random.SystemRandom().randrange(1, 2**31)


def run_nodes(plan: NodePlan) -> None:
    """Publish until ``plan.seconds`` have passed, wait for acks, write what was sent."""
    pick = random.Random(plan.tag)
    groups = [
        _Group(plan, plan.nodes[i : i + plan.per_connection], i // plan.per_connection)
        for i in range(0, len(plan.nodes), plan.per_connection)
    ]
    state: dict[str, dict[str, Any]] = {}
    start = time.time()
    for group in groups:
        for node in group.nodes:
            if node.role == "ghost":
                continue
            group.publish(f"werkplek/v1/{plan.site}/{node.device_id}/status", "online", retain=True)
            occupied = node.role == "present"
            first = start + pick.uniform(0, min(plan.heartbeat_s, 5.0))
            state[node.device_id] = {"seq": 0, "ts": 0, "occ": occupied, "next": first,
                                     "change": start + pick.uniform(20, 120), "group": group,
                                     "node": node}  # fmt: skip
    while time.time() - start < plan.seconds:
        now = time.time()
        soonest = now + 0.2
        for dev in state.values():
            if dev["next"] > now:
                soonest = min(soonest, dev["next"])
                continue
            node: Node = dev["node"]
            reason = "heartbeat"
            if node.role == "probe":
                dev["occ"], reason, gap = not dev["occ"], "change", 1.0
            elif node.role == "busy" and now >= dev["change"]:
                dev["occ"], reason = not dev["occ"], "change"
                dev["change"] = now + pick.uniform(30, 180)
                gap = plan.heartbeat_s
            else:
                gap = plan.heartbeat_s
            ts = max(int(now * 1000), dev["ts"] + 1)  # one point per ms and device in history
            dev["group"].presence(node, dev["seq"], ts, dev["occ"], reason)
            dev["seq"] += 1
            dev["ts"] = ts
            dev["next"] = now + gap
        time.sleep(max(0.0, min(soonest, time.time() + 0.2) - time.time()))
    deadline = time.time() + 60
    while time.time() < deadline and any(g.unacked() for g in groups):
        time.sleep(0.2)
    sent: dict[str, dict[int, int]] = {}
    for group in groups:
        group.client.disconnect()
        group.client.loop_stop()
        sent.update(group.sent)
    plan.out.write_text(json.dumps({"boot": BOOT, "sent": sent}))


@dataclass(frozen=True)
class ScreenPlan:
    """What the screens process runs: ``screens`` streams spread over the floors."""

    host: str
    port: int
    tokens: list[str]
    floors: list[tuple[str, str]]  # (floor id, probe space id)
    screens: int
    out: Path
    stop_file: Path


async def _screen(plan: ScreenPlan, i: int, seen: list[Any], links: list[Any]) -> None:
    floor, probe = plan.floors[i % len(plan.floors)]
    token = plan.tokens[i % len(plan.tokens)]
    needle = f'"{probe}"'.encode()
    request = (
        f"GET /api/v1/stream?floor={floor} HTTP/1.1\r\nHost: {plan.host}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()
    while not plan.stop_file.exists():
        try:
            reader, writer = await asyncio.open_connection(plan.host, plan.port, limit=1 << 24)
        except OSError:
            await asyncio.sleep(1.0)  # the page's EventSource retries after a short wait
            continue
        links.append((i, time.time(), "open"))
        try:
            writer.write(request)
            await writer.drain()
            kind = ""
            while True:
                line = await reader.readline()
                if not line:
                    break
                if line.startswith(b"event: "):
                    kind = line[7:].strip().decode()
                elif line.startswith(b"data: ") and needle in line:
                    now = time.time()
                    for space in json.loads(line[6:]).get("spaces", []):
                        if space.get("space_id") == probe:
                            state = space.get("availability")
                            seen.append((i, now, space.get("since"), state, kind))
        except (OSError, ValueError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
        links.append((i, time.time(), "closed"))
        await asyncio.sleep(1.0)


async def _screens(plan: ScreenPlan) -> None:
    seen: list[Any] = []
    links: list[Any] = []
    tasks = []
    for i in range(plan.screens):
        tasks.append(asyncio.create_task(_screen(plan, i, seen, links)))
        if i % 50 == 49:
            await asyncio.sleep(0.1)
    while not plan.stop_file.exists():
        await asyncio.sleep(0.2)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    plan.out.write_text(json.dumps({"seen": seen, "links": links}))


def run_screens(plan: ScreenPlan) -> None:
    """Keep ``plan.screens`` SSE streams open (reconnecting) until the stop file appears."""
    asyncio.run(_screens(plan))
