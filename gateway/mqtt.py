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

Space states go out through a window of ``STATE_WINDOW`` unacked publishes;
beyond it only the newest state per space waits (:meth:`MqttLink.publish_state`).
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from common.mqtt_tls import client_context
from contract.status import SyncMarker, encode_gateway_status
from gateway.mqtt_parts import (
    PUBACK,
    PUBACK_TYPE,
    Inbound,
    NoFilters,
    disable_nagle,
    is_state_topic,
)
from gateway.settings import BrokerAddress

__all__ = ["STATE_WINDOW", "Inbound", "MqttLink"]

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600
RECEIVE_MAXIMUM = 65535
KEEPALIVE_S = 30
#: Space states handed to paho and not yet acked by the broker, at most. Beyond it a
#: state waits in the link, where a newer state of the same space replaces it.
STATE_WINDOW = 100


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
        online_on_connect: bool = True,
        on_connect: Callable[[], None] | None = None,
        clear_on_connect: Sequence[str] = (),
        tls: ssl.SSLContext | None = None,
        sync_topic: str | None = None,
    ) -> None:
        self._broker = broker
        self._sync_topic = sync_topic
        #: This process's id in its sync markers (a marker of an earlier run is ignored).
        self.run_id = uuid.uuid4().hex[:16]
        self._clear_on_connect = list(clear_on_connect)
        self._status_on_connect = encode_gateway_status(online_on_connect)
        self._connect_hook = on_connect
        self._protocol = protocol
        self._status_topic = status_topic
        self._subscriptions = list(subscriptions)
        self._handler = on_message
        self._generation = 0
        self._gen_lock = threading.Lock()
        self.connected = threading.Event()
        #: Set once the broker acked every subscription of this connection (SUBACK).
        self.subscribed = threading.Event()
        self._pending_subs: set[int] = set()
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
        if broker.tls:  # ``tls``: trusting the municipality's CA (GatewaySettings.mqtt_tls)
            self._client.tls_set_context(tls or client_context(None))
        self._client.will_set(status_topic, encode_gateway_status(False), qos=1, retain=True)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        # paho sends at most 20 QoS 1 publishes unacked by default: a burst of space
        # state changes would queue behind that window and delay live state. Not
        # more than 100: paho scans the whole window on every PUBACK.
        self._client.max_inflight_messages_set(100)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_connect_fail = self._on_connect_fail
        #: Wall-clock time since when the link is down (start counts as down); None while up.
        self.down_since: float | None = time.time()
        #: Why the link is down, for health reports; None while up.
        self.down_reason: str | None = "not connected yet"
        self._failures = 0
        self._client.on_message = self._on_message
        self._client.on_socket_open = disable_nagle
        # Both are private in paho 2.x; without them the link falls back to the public API.
        self._queue_packet = getattr(self._client, "_packet_queue", None)
        if NoFilters.fits(self._client):
            self._client._on_message_filtered = NoFilters()
        self._acks: list[tuple[int, int]] = []
        self._ack_lock = threading.Lock()
        # Coalescing of retained space states (see publish_state).
        self._out_messages: Any = getattr(self._client, "_out_messages", None)
        self._state_lock = threading.Lock()
        self._waiting: dict[str, bytes] = {}  # topic -> newest state not yet handed to paho
        self._status_after: bytes | None = None  # a status that must follow the waiting states
        self._outstanding = 0  # states handed to paho, not yet acked by the broker
        self._wake: Callable[[], None] = lambda: None
        self._wake_pending = False
        self._client.on_publish = self._on_publish

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
        """Publish this gateway's retained status (a live standby says ``offline``).

        It goes out after the space states still waiting in the link: a takeover
        says ``online`` only once its states are on their way.
        """
        payload = encode_gateway_status(online)
        with self._state_lock:
            if self._waiting:
                self._status_after = payload
                return
        self._client.publish(self._status_topic, payload, qos=1, retain=True)

    def on_state_window(self, wake: Callable[[], None]) -> None:
        """``wake`` runs (network thread) when waiting states may go: call :meth:`pump_states`."""
        self._wake = wake

    def publish_state(self, topic: str, payload: bytes) -> bool:
        """Publish a retained space state; returns True when it replaced a waiting one.

        Only one thread may publish states (the gateway's worker). At most
        ``STATE_WINDOW`` go to paho unacked; the rest wait here, one per topic,
        so a burst of changes (every message of a flat-out stream changing a
        space) leaves at most one state per space to send, the newest, instead
        of every intermediate one in order: those queued up to ~50,000 deep
        and held live state back by seconds after the burst.
        """
        if self._out_messages is None:  # paho without the private map: no coalescing
            self._client.publish(topic, payload, qos=1, retain=True)
            return False
        with self._state_lock:
            replaced = topic in self._waiting
            self._waiting[topic] = payload  # a replaced state keeps its place in line
        self.pump_states()
        return replaced

    def pump_states(self, *, all_of_them: bool = False) -> None:
        """Hand waiting states to paho while the window allows (the state publisher only)."""
        while True:
            with self._state_lock:
                self._wake_pending = False
                if not self._waiting:
                    status, self._status_after = self._status_after, None
                    break
                if self._outstanding >= STATE_WINDOW and not all_of_them:
                    return
                topic = next(iter(self._waiting))
                payload = self._waiting.pop(topic)
                self._outstanding += 1
            self._client.publish(topic, payload, qos=1, retain=True)
        if status is not None:
            self._client.publish(self._status_topic, status, qos=1, retain=True)

    def _on_publish(
        self, client: paho.Client, userdata: Any, mid: int, reason_code: Any, properties: Any
    ) -> None:
        # paho calls this before it forgets the message, so its topic is still known.
        message = self._out_messages.get(mid) if self._out_messages is not None else None
        if message is None or not is_state_topic(message.topic):
            return
        with self._state_lock:
            self._outstanding = max(0, self._outstanding - 1)
            wake = bool(self._waiting) and not self._wake_pending
            self._wake_pending = self._wake_pending or wake
        if wake:
            self._wake()

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
                packet = b"".join(PUBACK.pack(PUBACK_TYPE, 2, mid) for mid in mids)
                self._queue_packet(PUBACK_TYPE, packet, 0, 0)
        return len(mids)

    def stop(self, timeout_s: float = 2.0) -> None:
        """Publish ``offline`` (a clean disconnect sends no Will), disconnect, stop the loop."""
        self.pump_states(all_of_them=True)
        if self.connected.is_set():
            offline = encode_gateway_status(False)
            info = self._client.publish(self._status_topic, offline, qos=1, retain=True)
            try:
                info.wait_for_publish(timeout_s)
            except (RuntimeError, ValueError) as exc:
                log.warning("could not publish gateway offline status: %s", exc)
        self._client.disconnect()
        self._client.loop_stop()
        self.connected.clear()
        self.subscribed.clear()

    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason_code: Any,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            log.error("MQTT connection refused by %s: %s", self._where(), reason_code)
            self.down_reason = f"refused: {reason_code}"
            return
        self._failures = 0
        self.down_since, self.down_reason = None, None
        with self._gen_lock:
            self._generation += 1
        log.info("MQTT connected (session present: %s)", flags.session_present)
        self._recount_states()
        if self._connect_hook is not None:
            self._connect_hook()  # before the subscriptions deliver anything
        self.subscribed.clear()
        with self._gen_lock:
            self._pending_subs.clear()
            for topic in self._subscriptions:
                _result, mid = client.subscribe(topic, qos=1)
                if mid is not None:
                    self._pending_subs.add(mid)
        for topic in self._clear_on_connect:  # retained leftovers of an earlier role
            client.publish(topic, b"", qos=1, retain=True)
        client.publish(self._status_topic, self._status_on_connect, qos=1, retain=True)
        self.connected.set()

    def _recount_states(self) -> None:
        """Count the unacked states again from paho's own records on each connect.

        The window counter only goes down on a PUBACK; should paho ever drop a
        state without one, the count would leak and states would stop. A new
        connection is where paho resends what it still holds, so its records
        are the truth from there on.
        """
        if self._out_messages is None:
            return
        try:
            held = sum(1 for m in list(self._out_messages.values()) if is_state_topic(m.topic))
        except RuntimeError:  # changed while we looked; the next connect counts again
            return
        with self._state_lock:
            self._outstanding = held
            wake = bool(self._waiting) and held < STATE_WINDOW and not self._wake_pending
            self._wake_pending = self._wake_pending or wake
        if wake:
            self._wake()

    def _on_subscribe(
        self, client: paho.Client, userdata: Any, mid: int, reason_codes: Any, properties: Any
    ) -> None:
        """A SUBACK: once every subscription of this connection is acked, say so.

        Then the sync marker goes out: the broker delivers the retained messages
        of the subscriptions before it, so its return means the registry is in.
        """
        refused = [code for code in reason_codes if getattr(code, "is_failure", False)]
        if refused:
            log.error("MQTT subscription refused by %s: %s", self._where(), refused)
        with self._gen_lock:
            if mid not in self._pending_subs:
                return
            self._pending_subs.discard(mid)
            if self._pending_subs:
                return
            generation = self._generation
        if self._sync_topic is not None:
            marker = SyncMarker(self.run_id, generation).payload()
            client.publish(self._sync_topic, marker, qos=1, retain=False)
        self.subscribed.set()

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason_code: Any,
        properties: Properties | None,
    ) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if self.down_since is None:
            self.down_since = time.time()
        self.down_reason = f"disconnected: {reason_code}"
        log.warning("MQTT disconnected: %s", reason_code)

    def _where(self) -> str:
        return f"{self._broker.host}:{self._broker.port}"

    def _on_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        """The broker could not be reached: an error at once, then a warning every fourth try.

        Without this an operator with a wrong broker address saw nothing at all.
        """
        self._failures += 1
        self.down_reason = f"broker {self._where()} unreachable"
        if self._failures == 1:
            log.error("MQTT broker %s unreachable; retrying every 1-30 s", self._where())
        elif self._failures % 4 == 0:
            log.warning(
                "MQTT broker %s still unreachable (%d attempts)", self._where(), self._failures
            )

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
