"""Test helpers: a paho probe for the real broker and an SSE reader thread."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.services import wait_until


class MqttProbe:
    """Publishes test messages and records what arrives on its subscriptions."""

    def __init__(self, host: str, port: int, *subscriptions: str) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self._subs = subscriptions
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"probe-{uuid.uuid4().hex[:6]}"
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.subscribed = threading.Event()
        self.client.on_subscribe = lambda *_a: self.subscribed.set()
        self.client.connect(host, port)
        self.client.loop_start()
        wait_until(self.client.is_connected, 10, what="probe connected")
        if subscriptions:
            assert self.subscribed.wait(10), "probe subscription not acknowledged"

    def _on_connect(self, client, _u, _f, _rc, _p):
        for topic in self._subs:
            client.subscribe(topic, qos=1)

    def _on_message(self, _c, _u, msg):
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def on_topic(self, topic: str) -> list[tuple[bytes, bool]]:
        with self._lock:
            return [(p, r) for t, p, r in self.messages if t == topic]

    def publish(self, topic: str, payload: bytes | dict[str, Any], retain: bool = True) -> None:
        data = json.dumps(payload).encode() if isinstance(payload, dict) else payload
        self.client.publish(topic, data, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class SseReader:
    """Reads an SSE stream in a thread; ``events`` holds (event, data, arrival time)."""

    url: str
    events: list[tuple[str, Any, float]] = field(default_factory=list)
    comments: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> SseReader:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        with httpx.Client(timeout=httpx.Timeout(5, read=30)) as client:
            with client.stream("GET", self.url, headers=self.headers) as response:
                self.status = response.status_code
                event, data = "message", ""
                for line in response.iter_lines():
                    if self._stop.is_set():
                        return
                    if line.startswith(":"):
                        self.comments += 1
                    elif line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data += line[5:].strip()
                    elif line == "" and data:
                        self.events.append((event, json.loads(data), time.monotonic()))
                        event, data = "message", ""

    def of(self, kind: str) -> list[Any]:
        return [data for event, data, _ in self.events if event == kind]

    def stop(self) -> None:
        self._stop.set()
