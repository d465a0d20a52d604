"""The Gateway: wires MQTT, validation, dedupe, live state, health and the history writer.

Threads: paho's network loop only enqueues; one worker validates, dedupes,
updates live state and publishes space states at once; the history writer
batches points separately (spooling to disk while the store is down), so a slow
or absent InfluxDB never delays live state. Roles: ``all`` does everything;
``history`` gateways share device messages over ``$share/<group>/`` and only
store them; a ``live`` gateway only derives live state and health. No signal
handlers or logging setup here: the demo embeds this class.
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
from functools import partial
from typing import Any

from prometheus_client import start_http_server

from gateway.deadletter import DeadLetter, DeadLetterStore
from gateway.dedupe import Deduper
from gateway.errors import InvalidMessage
from gateway.health import HealthTracker, device_of_topic, health_topic
from gateway.history import HistoryStore, point_from_message
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
from gateway.ratelimit import LogBudget
from gateway.settings import GatewaySettings
from gateway.spool import Spool
from gateway.wiring import create_history, subscriptions, topic_kind
from gateway.writer import HistoryWriter
from werkplek import contract

log = logging.getLogger(__name__)

_GATEWAY_PREFIX = f"{contract.PREFIX}/_gateway/"
_KINDS = ("presence", "status", "telemetry", "registry")


class Gateway:
    """One gateway process: start() returns at once, stop() flushes and says offline."""

    def __init__(self, settings: GatewaySettings, history: HistoryStore | None = None) -> None:
        self.settings = settings
        self._metrics = GatewayMetrics()
        self._history = history if history is not None else create_history(settings)
        self._dead = DeadLetterStore(settings.state_dir / "deadletter.sqlite3")
        self._live = LiveState(int(settings.stale_after_s * 1000))
        self._live_lock = threading.Lock()
        self._publishes = settings.gateway_role != "history"
        self._stores = settings.gateway_role != "live"
        self._health = HealthTracker(
            int(settings.health_interval_s * 1000), int(settings.stale_after_s * 1000)
        )
        self._dedupe = Deduper()
        self._reported: set[tuple[str, str]] = set()  # unassigned devices already logged
        self._reject_log = LogBudget(settings.rejection_log_per_min, log, "rejections")
        spool = Spool(
            settings.state_dir / f"spool-{settings.gateway_id}.sqlite3",
            max_points=settings.max_buffered_points,
        )
        self._writer = HistoryWriter(
            self._history,
            self._metrics,
            batch_size=settings.batch_size,
            linger_ms=settings.batch_linger_ms,
            spool=spool,
        )
        self._inbox: queue.SimpleQueue[Inbound | None] = queue.SimpleQueue()
        self._link = MqttLink(
            settings.broker,
            client_id=settings.client_id,
            protocol=settings.mqtt_protocol,
            status_topic=contract.gateway_status_topic(settings.gateway_id),
            subscriptions=subscriptions(settings),
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
        if self._stores:
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
        counts["spool_pending"] = self._writer.spooled()
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
        now_ms = int(time.time() * 1000)
        self._metrics.inbox_depth(self._inbox.qsize())
        if not self._publishes:
            return
        with self._live_lock:
            changes = self._live.tick(now_ms)
            health = [(h.site, h.device_id, h.payload()) for h in self._health.due(now_ms)]
        self._publish(changes)
        for site, device_id, payload in health:
            self._link.publish(health_topic(site, device_id), payload, qos=1, retain=True)

    def health(self) -> list[dict[str, Any]]:
        """Every device's health record as published (for tests and embedding apps)."""
        with self._live_lock:
            return [json.loads(r.payload()) for r in self._health.records()]

    def _handle(self, inbound: Inbound) -> None:
        if inbound.topic.startswith(_GATEWAY_PREFIX):
            # Gateways' own status (ours included) matches the device status filter.
            self._metrics.event("ignored")
            self._link.ack(inbound)
            return
        self._metrics.received(topic_kind(inbound.topic))
        try:
            msg = parse_message(inbound.topic, inbound.payload, inbound.received_ms)
        except InvalidMessage as exc:
            self._reject(inbound, exc)
            self._link.ack(inbound)
            return
        self._apply(inbound, msg)

    def _apply(self, inbound: Inbound, msg: Message) -> None:
        if isinstance(msg, PresenceMessage):
            self._presence(inbound, msg)
            return
        now_ms = int(time.time() * 1000)
        changes: list[SpaceState] = []
        with self._live_lock:
            if isinstance(msg, StatusMessage):
                changes = self._live.apply_status(msg, now_ms)
            elif isinstance(msg, RegistryMessage):
                changes = self._live.apply_registry(msg, now_ms)
            self._health.apply(msg)
        self._publish(changes)
        self._link.ack(inbound)

    def _presence(self, inbound: Inbound, msg: PresenceMessage) -> None:
        key = (msg.boot, msg.seq, None if msg.boot is not None else msg.device_ts)
        on_stored = self._dedupe.check(
            (msg.site, msg.device_id), key, partial(self._link.ack, inbound)
        )
        if on_stored is None:
            self._metrics.event("duplicate")
            return
        now_ms = int(time.time() * 1000)
        changes: list[SpaceState] = []
        applied = True
        with self._live_lock:
            if self._publishes:
                applied, changes = self._live.apply_presence(msg, now_ms)
            assignment = self._live.assignment(msg.site, msg.device_id)
            self._health.apply(msg)
        self._publish(changes)
        if not applied:
            self._metrics.event("out_of_order")
        if msg.clock_corrected:
            self._metrics.event("clock_corrected")
        if assignment is None:
            self._metrics.event("unassigned_device")
            if (msg.site, msg.device_id) not in self._reported:
                self._reported.add((msg.site, msg.device_id))
                log.warning("presence from unassigned device %s/%s", msg.site, msg.device_id)
        if self._stores:
            self._writer.submit(point_from_message(msg, assignment), on_stored, inbound.received_s)
        else:
            on_stored()

    def _publish(self, changes: list[SpaceState]) -> None:
        if not self._publishes:
            return
        for state in changes:
            self._link.publish(state.topic, state.payload(), qos=1, retain=True)
        self._metrics.event("published", len(changes))

    def _reject(self, inbound: Inbound, exc: InvalidMessage) -> None:
        if self._reject_log.allow():
            log.warning("rejected %s [%s]: %s", inbound.topic[:200], exc.reason, exc.detail)
        self._metrics.rejected(exc.reason)
        device = device_of_topic(inbound.topic)
        if device is not None:
            with self._live_lock:
                self._health.error(device[0], device[1], exc.reason, inbound.received_ms)
        try:
            self._dead.add(DeadLetter.of(inbound, exc.reason, exc.detail))
        except sqlite3.Error as err:
            log.error("could not store a dead letter: %s", err)


_TICK: Any = object()
