"""The gateway's only paho-mqtt edge: connect, subscribe, hand messages over, ack, publish.

The network callback does no work: it stamps the receive time and hands the
message to a callable (the gateway puts it on a queue). Messages are acked
manually (paho ``manual_ack``, which works for MQTT 3.1.1 and 5) once the
gateway has handled them, so the persistent session redelivers anything a
crash cut short. Acks are tied to a connection generation: a message id from a
previous connection is never acked on a new one, where it may mean another message.

Acks are collected and sent together (:meth:`MqttLink.flush_acks`): one write
and one wake-up of paho's loop for a whole stored batch instead of one per
message, which was a tenth of the gateway's CPU at full speed.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.matcher import MQTTMatcher
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gateway.settings import BrokerAddress
from werkplek.contract import STATUS_OFFLINE, STATUS_ONLINE

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600
RECEIVE_MAXIMUM = 65535
KEEPALIVE_S = 30
#: PUBACK fixed header (type 4, remaining length 2) and packet id; valid in 3.1.1 and 5
#: (MQTT 5 reads a missing reason code as 0, success).
_PUBACK = struct.Struct("!BBH")
_PUBACK_TYPE = 0x40


class _NoFilters(MQTTMatcher):
    """paho matches every topic against per-topic callbacks; we register none.

    Walking the empty topic tree cost ~8 % of the gateway's CPU per message.
    """

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    def iter_match(self, topic: str) -> Any:
        """No per-topic callbacks: nothing matches."""
        return iter(())


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
        status_on_connect: str = STATUS_ONLINE,
        on_connect: Callable[[], None] | None = None,
        clear_on_connect: Sequence[str] = (),
    ) -> None:
        self._broker = broker
        self._clear_on_connect = list(clear_on_connect)
        self._status_on_connect = status_on_connect
        self._connect_hook = on_connect
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
        # Both are private in paho 2.x; without them the link falls back to the public API.
        self._queue_packet = getattr(self._client, "_packet_queue", None)
        if isinstance(getattr(self._client, "_on_message_filtered", None), MQTTMatcher):
            self._client._on_message_filtered = _NoFilters()
        self._acks: list[tuple[int, int]] = []
        self._ack_lock = threading.Lock()

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

    def set_status(self, online: bool) -> None:
        """Publish this gateway's retained status (a live standby says ``offline``)."""
        self._client.publish(
            self._status_topic, STATUS_ONLINE if online else STATUS_OFFLINE, qos=1, retain=True
        )

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = True) -> None:
        """Queue a publish; paho sends it now or after the next reconnect (QoS 1)."""
        self._client.publish(topic, payload, qos=qos, retain=retain)

    def ack(self, message: Inbound) -> None:
        """Queue the ack of a QoS 1 message; :meth:`flush_acks` sends what is queued."""
        if message.qos != 1:
            return  # QoS 0 needs none; the subscriptions are QoS 1 at most
        with self._ack_lock:
            self._acks.append((message.generation, message.mid))

    def flush_acks(self) -> int:
        """Send every queued ack of the current connection in one packet write.

        Acks from an earlier connection are dropped: the broker redelivers those
        messages on the new one, where their ids may mean other messages.
        """
        with self._ack_lock:
            if not self._acks:
                return 0
            acks, self._acks = self._acks, []
        with self._gen_lock:
            if not self.connected.is_set():
                return 0
            mids = [mid for generation, mid in acks if generation == self._generation]
            if not mids:
                return 0
            if self._queue_packet is None:
                for mid in mids:
                    self._client.ack(mid, 1)
            else:
                packet = b"".join(_PUBACK.pack(_PUBACK_TYPE, 2, mid) for mid in mids)
                self._queue_packet(_PUBACK_TYPE, packet, 0, 0)
        return len(mids)

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
        if self._connect_hook is not None:
            self._connect_hook()  # before the subscriptions deliver anything
        for topic in self._subscriptions:
            client.subscribe(topic, qos=1)
        for topic in self._clear_on_connect:  # retained leftovers of an earlier role
            client.publish(topic, b"", qos=1, retain=True)
        client.publish(self._status_topic, self._status_on_connect, qos=1, retain=True)
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
