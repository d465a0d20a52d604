"""A small MQTT v5 client for the satellite tests: records CONNACK, PUBACK codes and messages."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from tests.services import wait_until


class Probe:
    """Connects once (no retry), subscribes at QoS 1, keeps every message it gets."""

    def __init__(
        self,
        host: str,
        port: int,
        user: str = "",
        password: str = "",
        subscribe: tuple[str, ...] = (),
    ) -> None:
        self.connack: Any = None
        self.acks: dict[int, int] = {}
        self.granted: list[int] = []
        self.messages: list[tuple[str, bytes, bool]] = []
        self._subscribe = subscribe
        self._lock = threading.Lock()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"probe-{uuid.uuid4().hex[:8]}" if not user else user,
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        if user:
            self.client.username_pw_set(user, password)
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.connect(host, port)
        self.client.loop_start()
        wait_until(lambda: self.connack is not None, 30, what=f"CONNACK for {user or 'probe'}")
        if self.accepted and subscribe:
            wait_until(lambda: self.granted, 30, what="SUBACK")

    @property
    def accepted(self) -> bool:
        """True once the broker accepted the connection."""
        return self.connack is not None and not self.connack.is_failure

    def _on_connect(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        self.connack = rc
        if rc.is_failure:
            client.disconnect()
        elif self._subscribe:
            client.subscribe([(topic, 1) for topic in self._subscribe])

    def _on_publish(self, client: Any, userdata: Any, mid: int, rc: Any, props: Any) -> None:
        self.acks[mid] = rc.value

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, codes: Any, props: Any) -> None:
        self.granted = [code.value for code in codes]

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> int:
        """Publish at QoS 1 and return the broker's PUBACK reason code."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        wait_until(lambda: info.mid in self.acks, 30, what=f"PUBACK for {topic}")
        return self.acks[info.mid]

    def on_topic(self, topic: str) -> list[bytes]:
        """Payloads received on one topic, in order."""
        with self._lock:
            return [payload for t, payload, _ in self.messages if t == topic]

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()
