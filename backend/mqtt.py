"""The backend's only paho-mqtt user: subscribes to live space state, publishes the registry.

paho runs its network loop in its own thread. Callbacks here do no work of
their own: they hand the raw message to ``on_message``, which the app wires to
``loop.call_soon_threadsafe`` so that all state lives on the asyncio loop and a
slow consumer never stalls keep-alives or PUBACKs.
"""

from __future__ import annotations

import logging
import ssl
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from common.mqtt_tls import client_context
from common.mqtt_url import BrokerAddress, parse_mqtt_url

__all__ = ["BrokerAddress", "MqttBridge", "parse_mqtt_url"]

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes, bool], None]
ConnectionHandler = Callable[[bool], None]


class MqttBridge:
    """A reconnecting paho client that subscribes on every connect.

    The link counts as up once the broker has acknowledged every subscription, not at
    CONNACK: until the SUBACK, space states do not flow yet, and the health check, the
    screens and the no-show rule (which trusts only a live link) must not think they do.
    """

    def __init__(
        self,
        url: str,
        *,
        protocol: str = "5",
        client_id: str | None = None,
        subscriptions: Sequence[str] = (),
        on_message: MessageHandler,
        on_connection: ConnectionHandler,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.address = parse_mqtt_url(url)
        self._subscriptions = tuple(subscriptions)
        self._on_message = on_message
        self._on_connection = on_connection
        self._v5 = protocol == "5"
        self.connected = False
        #: Since when the link is down (start counts as down) and why; None while up (health).
        self.down_since: float | None = time.time()
        self.down_reason: str | None = "not connected yet"
        self._failures = 0
        #: The packet id of this connection's SUBSCRIBE, until its SUBACK arrives.
        self._pending: int | None = None
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"werkplek-backend-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5 if self._v5 else mqtt.MQTTv311,
        )
        if self.address.username:
            self._client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:  # ``tls``: trusting the municipality's CA (Settings.mqtt_tls)
            self._client.tls_set_context(tls or client_context(None))
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._client.on_connect = self._handle_connect
        self._client.on_disconnect = self._handle_disconnect
        self._client.on_message = self._handle_message
        self._client.on_subscribe = self._handle_subscribe
        self._client.on_connect_fail = self._handle_connect_fail

    def start(self) -> None:
        """Connect in the background; paho keeps reconnecting until ``stop``."""
        self._client.connect_async(self.address.host, self.address.port, keepalive=30)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect cleanly and join the network thread."""
        self._client.disconnect()
        self._client.loop_stop()
        self.connected = False

    def publish(self, topic: str, payload: bytes, retain: bool) -> bool:
        """Queue a QoS 1 message; False when paho refused it (it is resent on reconnect)."""
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        return info.rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN)

    def _handle_connect(
        self, client: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any
    ) -> None:
        if reason.is_failure:
            log.error("mqtt: broker %s refused the connection: %s", self._where(), reason)
            self.down_reason = f"refused: {reason}"
            return
        log.info("mqtt: connected to %s:%d", self.address.host, self.address.port)
        self._failures = 0
        if not self._subscriptions:
            self._up()
            return
        self.down_reason = "subscribing"
        _rc, self._pending = client.subscribe([(topic, 1) for topic in self._subscriptions])

    def _handle_subscribe(
        self, _c: mqtt.Client, _u: Any, mid: int, reasons: list[ReasonCode], _p: Any
    ) -> None:
        if mid != self._pending:
            return
        self._pending = None
        refused = [t for t, r in zip(self._subscriptions, reasons, strict=False) if r.is_failure]
        if refused or len(reasons) != len(self._subscriptions):
            log.error("mqtt: broker %s refused the subscription to %s", self._where(), refused)
            self.down_reason = f"subscription refused: {', '.join(refused) or 'answer incomplete'}"
            return
        self._up()

    def _up(self) -> None:
        self.down_since, self.down_reason = None, None
        self.connected = True
        self._safe(self._on_connection, True)

    def _handle_disconnect(
        self, _c: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any
    ) -> None:
        log.warning("mqtt: disconnected (%s)", reason)
        self.connected, self._pending = False, None
        self.down_since = self.down_since or time.time()
        self.down_reason = f"disconnected: {reason}"
        self._safe(self._on_connection, False)

    def _where(self) -> str:
        return f"{self.address.host}:{self.address.port}"

    def _handle_connect_fail(self, _c: mqtt.Client, _u: Any) -> None:
        """An unreachable broker is an error at once (a wrong address is not silent)."""
        self._failures += 1
        self.down_reason = f"broker {self._where()} unreachable"
        if self._failures == 1:
            log.error("mqtt: broker %s unreachable; retrying every 1-10 s", self._where())
        elif self._failures % 6 == 0:
            log.warning("mqtt: broker %s unreachable (%d tries)", self._where(), self._failures)

    def _handle_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        self._safe(self._on_message, message.topic, bytes(message.payload), bool(message.retain))

    @staticmethod
    def _safe(func: Callable[..., None], *args: Any) -> None:
        # An exception escaping a callback would kill paho's network thread.
        try:
            func(*args)
        except Exception:
            log.exception("mqtt: callback %s failed", getattr(func, "__name__", func))
