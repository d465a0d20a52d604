"""A small paho client for integration tests: publish and watch topics."""

from __future__ import annotations

import json
import threading
import uuid

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from tests.services import wait_until


class TestClient:
    __test__ = False

    def __init__(self, broker, subscribe=()):
        self.messages = []
        self.lock = threading.Lock()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}"
        )
        self.client.on_message = self._on_message
        self._subs = list(subscribe)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.ready = threading.Event()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        wait_until(self.ready.is_set, 5, what="test client connected")

    def _on_connect(self, client, userdata, flags, rc, props):
        if self._subs:
            client.subscribe([(sub, 1) for sub in self._subs])
        else:
            self.ready.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, props):
        self.ready.set()  # SUBACK seen: retained messages are on their way

    def _on_message(self, client, userdata, msg):
        with self.lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def publish(self, topic, payload, qos=1, retain=False):
        if isinstance(payload, dict):
            payload = json.dumps(payload).encode()
        elif isinstance(payload, str):
            payload = payload.encode()
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(5)

    def on_topic(self, topic):
        with self.lock:
            return [p for t, p, _ in self.messages if t == topic]

    def last_json(self, topic):
        got = self.on_topic(topic)
        return json.loads(got[-1]) if got and got[-1] else None

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()
