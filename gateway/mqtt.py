"""The gateway's only paho-mqtt edge: connect, subscribe, hand messages over, ack, publish.

The network callback does no work: it stamps the receive time and hands the
message to a callable (the gateway puts it on a queue). Messages are acked
manually (paho ``manual_ack``, which works for MQTT 3.1.1 and 5) once the
gateway has handled them, so the persistent session redelivers anything a
crash cut short. Acks are tied to a connection generation: a message id from a
previous connection is never acked on a new one, where it may mean another message.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gateway.settings import BrokerAddress
from werkplek.contract import STATUS_OFFLINE, STATUS_ONLINE

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600
RECEIVE_MAXIMUM = 65535
KEEPALIVE_S = 30


def _disable_nagle(client: paho.Client, userdata: Any, sock: Any) -> None:
    """Send small packets at once: Nagle plus delayed ACKs adds ~40 ms per space state."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError) as exc:
        log.debug("TCP_NODELAY not set: %s", exc)


@dataclass(slots=True)  # not frozen: it is built per message and frozen init costs
class Inbound:
    """One message as received, before any validation."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    mid: int
    generation: int
    received_ms: int
    received_s: float


class MqttLink:
    """One persistent-session MQTT connection with automatic reconnect."""

    def __init__(
        self,
        broker: BrokerAddress,
        *,
        client_id: str,
        protocol: str,
        status_topic: str,
        subscriptions: Sequence[str],
        on_message: Callable[[Inbound], None],
    ) -> None:
        self._broker = broker
        self._protocol = protocol
        self._status_topic = status_topic
        self._subscriptions = list(subscriptions)
        self._handler = on_message
        self._generation = 0
        self._gen_lock = threading.Lock()
        self.connected = threading.Event()
        v5 = protocol == "5"
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=None if v5 else False,
            protocol=MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311,
            manual_ack=True,
        )
        if broker.username is not None:
            self._client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self._client.tls_set()
        self._client.will_set(status_topic, STATUS_OFFLINE, qos=1, retain=True)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        # paho sends at most 20 QoS 1 publishes unacked by default: a burst of space
        # state changes would queue behind that window and delay live state. Not
        # more than 100: paho scans the whole window on every PUBACK.
        self._client.max_inflight_messages_set(100)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_socket_open = _disable_nagle

    def start(self) -> None:
        """Connect in the background; paho's loop thread reconnects on its own."""
        properties = None
        if self._protocol == "5":
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = SESSION_EXPIRY_S
            properties.ReceiveMaximum = RECEIVE_MAXIMUM
            self._client.connect_async(
                self._broker.host,
                self._broker.port,
                KEEPALIVE_S,
                clean_start=False,
                properties=properties,
            )
        else:
            self._client.connect_async(self._broker.host, self._broker.port, KEEPALIVE_S)
        self._client.loop_start()

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = True) -> None:
        """Queue a publish; paho sends it now or after the next reconnect (QoS 1)."""
        self._client.publish(topic, payload, qos=qos, retain=retain)

    def ack(self, message: Inbound) -> None:
        """Acknowledge a QoS 1 message if its connection is still the current one."""
        if message.qos == 0:
            return
        with self._gen_lock:
            if message.generation != self._generation or not self.connected.is_set():
                return  # the broker redelivers it on the new connection
            self._client.ack(message.mid, message.qos)

    def stop(self, timeout_s: float = 2.0) -> None:
        """Publish ``offline`` (a clean disconnect sends no Will), disconnect, stop the loop."""
        if self.connected.is_set():
            info = self._client.publish(self._status_topic, STATUS_OFFLINE, qos=1, retain=True)
            try:
                info.wait_for_publish(timeout_s)
            except (RuntimeError, ValueError) as exc:
                log.warning("could not publish gateway offline status: %s", exc)
        self._client.disconnect()
        self._client.loop_stop()
        self.connected.clear()

    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason_code: Any,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            log.error("MQTT connection refused: %s", reason_code)
            return
        with self._gen_lock:
            self._generation += 1
        log.info("MQTT connected (session present: %s)", flags.session_present)
        for topic in self._subscriptions:
            client.subscribe(topic, qos=1)
        client.publish(self._status_topic, STATUS_ONLINE, qos=1, retain=True)
        self.connected.set()

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason_code: Any,
        properties: Properties | None,
    ) -> None:
        self.connected.clear()
        log.warning("MQTT disconnected: %s", reason_code)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = bytes(getattr(message, "_topic", b"")).decode("utf-8", "replace")
        now = time.time()
        self._handler(
            Inbound(
                topic=topic,
                payload=bytes(message.payload),
                qos=message.qos,
                retain=bool(message.retain),
                mid=message.mid,
                generation=self._generation,
                received_ms=int(now * 1000),
                received_s=now,
            )
        )
