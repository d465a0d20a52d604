"""The embedded MQTT broker of the demo (amqtt), for machines without Mosquitto.

amqtt speaks MQTT 3.1.1 only, so services connected to it must use protocol
"3.1.1". It listens on loopback only and allows anonymous clients: it exists so
that `make demo` needs no server. Production uses Mosquitto with per-device
credentials and ACLs (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from amqtt.broker import Broker

log = logging.getLogger(__name__)


class _SnapshotDict(dict[str, Any]):
    """A dict whose iteration walks a copy.

    amqtt 0.11/0.12 iterate their subscription table across ``await`` points;
    when another client subscribes meanwhile, iteration fails with "dictionary
    changed size during iteration" and that client's connection is dropped. With
    a hundred sensors connecting at once this happens constantly.
    """

    def __iter__(self) -> Any:
        return iter(list(super().keys()))

    def items(self) -> Any:
        return list(super().items())


class _Broker(Broker):  # type: ignore[misc]
    """amqtt's broker with two fixes for the demo's connection storm.

    - Iterating the subscription table is safe against concurrent subscribes.
    - On connect, amqtt sends a client the retained messages of *every* topic
      filter any client has subscribed to; here a client gets only those of its
      own subscriptions, as MQTT requires.
    """

    _subscriptions: dict[str, list[tuple[Any, int]]]

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._subscriptions = _SnapshotDict(self._subscriptions)

    async def _publish_retained_messages_for_subscription(
        self, subscription: tuple[str, int], session: Any
    ) -> None:
        subscribers = self._subscriptions.get(subscription[0], [])
        if any(sub.client_id == session.client_id for sub, _ in subscribers):
            await super()._publish_retained_messages_for_subscription(subscription, session)


class _QuietDeliveryTimeouts(logging.Filter):
    """One warning line, not a traceback, when a slow subscriber misses a delivery.

    amqtt logs a QoS 1 delivery that waited too long for its PUBACK with the whole
    traceback ("Task failed and will be skipped") and carries on. On a busy laptop the
    demo's subscribers fall behind now and then; a newcomer should not see a stack of
    tracebacks for that. Other errors keep their traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, TimeoutError):
            record.msg = "a subscriber did not acknowledge a message in time; delivery skipped"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _quiet_unacked_publishes(loop: asyncio.AbstractEventLoop) -> None:
    """One warning line, not a traceback, when amqtt's own publish task times out.

    amqtt sends each QoS 1 message to a subscriber in a task nobody awaits; when the
    subscriber is late with its PUBACK the task ends in ``TimeoutError`` and asyncio
    logs "Task exception was never retrieved" with the whole traceback (seen under two
    busy loops). Like :class:`_QuietDeliveryTimeouts`, only that case is quieted; every
    other unretrieved exception goes to the loop's handler as before.
    """
    previous = loop.get_exception_handler()

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error, task = context.get("exception"), context.get("future")
        if isinstance(error, TimeoutError) and "mqtt_publish" in repr(task):
            log.warning("a client did not acknowledge a message in time; delivery skipped")
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handle)


class EmbeddedBroker:
    """An in-process MQTT 3.1.1 broker bound to ``host:port``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        self.host = host
        self.port = port
        self._broker: Any = None

    @property
    def url(self) -> str:
        """The URL services use to connect."""
        return f"mqtt://{self.host}:{self.port}"

    async def start(self) -> None:
        """Start listening; returns once the listener is bound."""
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }
        amqtt_log = logging.getLogger("amqtt.broker")
        if not any(isinstance(f, _QuietDeliveryTimeouts) for f in amqtt_log.filters):
            amqtt_log.addFilter(_QuietDeliveryTimeouts())
        _quiet_unacked_publishes(asyncio.get_running_loop())
        self._broker = _Broker(config)
        await self._broker.start()
        log.info("embedded MQTT broker listening on %s", self.url)

    async def stop(self) -> None:
        """Shut the broker down."""
        if self._broker is not None:
            await self._broker.shutdown()
            self._broker = None
