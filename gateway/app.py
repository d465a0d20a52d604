"""The Gateway: wires MQTT, validation, live state, dead letters and the history writer.

Threads: paho's network loop only enqueues; one worker validates, updates live
state and publishes space states at once; the history writer batches points
separately, so a slow or absent InfluxDB never delays live state. No signal
handlers or logging setup here: the demo embeds this class.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from functools import partial
from typing import Any

from prometheus_client import start_http_server

from gateway.deadletter import DeadLetter, DeadLetterStore
from gateway.errors import InvalidMessage
from gateway.history import HistoryStore, InfluxHistory, SqliteHistory, point_from_message
from gateway.live import LiveState, SpaceState
from gateway.messages import (
    Message,
    PresenceMessage,
    RegistryMessage,
    StatusMessage,
    parse_message,
)
from gateway.metrics import GatewayMetrics
from gateway.mqtt import Inbound, MqttLink
from gateway.settings import GatewaySettings
from gateway.writer import HistoryWriter
from werkplek import contract

log = logging.getLogger(__name__)

_GATEWAY_PREFIX = f"{contract.PREFIX}/_gateway/"
_KINDS = ("presence", "status", "telemetry", "registry")
_DEAD_LETTER_MAX_BYTES = 4096


def create_history(settings: GatewaySettings) -> HistoryStore:
    """InfluxDB when ``influx_url`` is set, else the embedded SQLite file."""
    if settings.influx_url:
        return InfluxHistory(
            settings.influx_url,
            settings.influx_database,
            username=settings.influx_username,
            password=settings.influx_password.get_secret_value()
            if settings.influx_password
            else None,
            token=settings.influx_token.get_secret_value() if settings.influx_token else None,
        )
    return SqliteHistory(settings.history_path)


def _topic_kind(topic: str) -> str:
    parts = topic.split("/")
    if len(parts) == 5 and parts[3] == "_registry":
        return "registry"
    if len(parts) == 5 and parts[4] in contract.DEVICE_KINDS:
        return parts[4]
    return "other"


class Gateway:
    """One gateway process: start() returns at once, stop() flushes and says offline."""

    def __init__(self, settings: GatewaySettings, history: HistoryStore | None = None) -> None:
        self.settings = settings
        self._metrics = GatewayMetrics()
        self._history = history if history is not None else create_history(settings)
        self._dead = DeadLetterStore(settings.state_dir / "deadletter.sqlite3")
        self._live = LiveState(int(settings.stale_after_s * 1000))
        self._live_lock = threading.Lock()
        self._writer = HistoryWriter(
            self._history,
            self._metrics,
            batch_size=settings.batch_size,
            linger_ms=settings.batch_linger_ms,
            max_buffered=settings.max_buffered_points,
        )
        self._inbox: queue.SimpleQueue[Inbound | None] = queue.SimpleQueue()
        self._link = MqttLink(
            settings.broker,
            client_id=settings.client_id,
            protocol=settings.mqtt_protocol,
            status_topic=contract.gateway_status_topic(settings.gateway_id),
            subscriptions=[
                contract.SUB_PRESENCE,
                contract.SUB_STATUS,
                contract.SUB_TELEMETRY,
                contract.SUB_REGISTRY,
            ],
            on_message=self._inbox.put,
        )
        self._worker = threading.Thread(target=self._work, name="gateway-worker", daemon=True)
        self._metrics_server: Any = None
        self._started = False

    @property
    def connected(self) -> threading.Event:
        """Set while the MQTT connection is up."""
        return self._link.connected

    def start(self) -> None:
        """Start the threads and connect; returns at once (the writer creates the schema)."""
        if self._started:
            return
        self._started = True
        if self.settings.metrics_port is not None:
            self._metrics_server = start_http_server(
                self.settings.metrics_port, registry=self._metrics.registry
            )
        self._writer.start()
        self._worker.start()
        self._link.start()

    def stop(self) -> None:
        """Handle what is queued, flush history, publish offline, disconnect, close files."""
        if not self._started:
            return
        self._started = False
        self._inbox.put(None)
        self._worker.join(10)
        self._writer.stop()
        self._link.stop()
        self._history.close()
        self._dead.close()
        if self._metrics_server is not None:
            server, _thread = self._metrics_server
            server.shutdown()
            server.server_close()
            self._metrics_server = None

    def counters(self) -> dict[str, int]:
        """Plain counters: received, rejected, rejected.<reason>, stored, published, ..."""
        counts = {"received": 0, "rejected": 0, "stored": 0, "published": 0}
        counts.update({f"received.{kind}": 0 for kind in _KINDS})
        counts.update(self._metrics.snapshot())
        counts["history_pending"] = self._writer.pending()
        return counts

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """The newest rejected messages, newest first."""
        return self._dead.recent(limit)

    def space_states(self) -> list[SpaceState]:
        """The current derived state of every known space."""
        with self._live_lock:
            return self._live.states()

    @property
    def metrics(self) -> GatewayMetrics:
        """The metrics object (its ``registry`` can be exposed by an embedding app)."""
        return self._metrics

    def _work(self) -> None:
        interval_s = self.settings.tick_interval_ms / 1000
        next_tick = time.monotonic() + interval_s
        while True:
            try:
                item = self._inbox.get(timeout=max(0.0, next_tick - time.monotonic()))
            except queue.Empty:
                item = _TICK
            if item is None:
                return
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + interval_s
                self._tick()
            if item is _TICK:
                continue
            try:
                self._handle(item)
            except Exception:  # a bug must not stop ingestion; the message is dropped
                log.exception("internal error handling a message on %s", item.topic)
                self._metrics.event("internal_error")
                self._link.ack(item)

    def _tick(self) -> None:
        with self._live_lock:
            changes = self._live.tick(int(time.time() * 1000))
        self._publish(changes)

    def _handle(self, inbound: Inbound) -> None:
        if inbound.topic.startswith(_GATEWAY_PREFIX):
            # Gateways' own status (ours included) matches the device status filter.
            self._metrics.event("ignored")
            self._link.ack(inbound)
            return
        self._metrics.received(_topic_kind(inbound.topic))
        try:
            msg = parse_message(inbound.topic, inbound.payload, inbound.received_ms)
        except InvalidMessage as exc:
            self._reject(inbound, exc)
            self._link.ack(inbound)
            return
        self._apply(inbound, msg)

    def _apply(self, inbound: Inbound, msg: Message) -> None:
        now_ms = int(time.time() * 1000)
        changes: list[SpaceState] = []
        with self._live_lock:
            if isinstance(msg, PresenceMessage):
                applied, changes = self._live.apply_presence(msg, now_ms)
                assignment = self._live.assignment(msg.site, msg.device_id)
            elif isinstance(msg, StatusMessage):
                changes = self._live.apply_status(msg, now_ms)
            elif isinstance(msg, RegistryMessage):
                changes = self._live.apply_registry(msg, now_ms)
        self._publish(changes)
        if isinstance(msg, PresenceMessage):
            if not applied:
                self._metrics.event("out_of_order")
            if msg.clock_corrected:
                self._metrics.event("clock_corrected")
            self._writer.submit(
                point_from_message(msg, assignment),
                partial(self._link.ack, inbound),
                inbound.received_s,
            )
        else:
            self._link.ack(inbound)

    def _publish(self, changes: list[SpaceState]) -> None:
        for state in changes:
            self._link.publish(state.topic, state.payload(), qos=1, retain=True)
        self._metrics.event("published", len(changes))

    def _reject(self, inbound: Inbound, exc: InvalidMessage) -> None:
        log.warning("rejected %s [%s]: %s", inbound.topic[:200], exc.reason, exc.detail)
        self._metrics.rejected(exc.reason)
        # Keep enough bytes to diagnose; a broker may allow payloads of megabytes.
        letter = DeadLetter(
            inbound.received_ms,
            inbound.topic[:_DEAD_LETTER_MAX_BYTES],
            exc.reason,
            exc.detail,
            inbound.payload[:_DEAD_LETTER_MAX_BYTES],
        )
        try:
            self._dead.add(letter)
        except sqlite3.Error as err:
            log.error("could not store a dead letter: %s", err)


_TICK: Any = object()
