"""The Gateway: wires MQTT, validation, dedupe, live state, health and the history writer.

Threads: paho's network loop only enqueues; one worker validates, dedupes,
updates live state and publishes space states at once; the history writer
batches points separately (spooling to disk while the store is down), so a slow
or absent InfluxDB never delays live state. Acks are queued and sent in one
write per stored batch (and by the worker for what it settles itself). Roles:
``all`` does everything; ``history`` gateways share device messages over
``$share/<group>/`` and only store them; ``live`` gateways only derive live
state and health, and of several only the holder of the lease
(:mod:`gateway.lease`) publishes. Only a gateway that serves live state speaks
on ``_gateway/<id>/status``; a history gateway uses ``_gateway/<id>/history``,
so it never makes a dead live gateway look alive. No signal handlers or logging setup here:
the demo embeds this class.
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

import contract
from contract import STATUS_OFFLINE, STATUS_ONLINE
from gateway.deadletter import DeadLetter, DeadLetterStore
from gateway.dedupe import Deduper
from gateway.errors import InvalidMessage
from gateway.health import HealthTracker, device_of_topic, health_topic
from gateway.lease import LEASE_TOPIC, Action, LiveLease, lease_payload
from gateway.live import LiveState, SpaceState
from gateway.messages import (
    Message,
    PresenceMessage,
    RegistryMessage,
    StatusMessage,
    TelemetryMessage,
    parse_message,
)
from gateway.metrics import GatewayMetrics
from gateway.mqtt import Inbound, MqttLink
from gateway.points import point_from_message, telemetry_point
from gateway.ratelimit import LogBudget
from gateway.settings import GatewaySettings
from gateway.spool import Spool
from gateway.status import RetentionWatch, retention_of
from gateway.wiring import create_history, subscriptions, topic_kind
from gateway.writer import HistoryWriter
from history import HistoryStore

log = logging.getLogger(__name__)

_GATEWAY_PREFIX = f"{contract.PREFIX}/_gateway/"
_HEALTH_LEVEL = "/_health/"
#: Seconds after a (re)connect before a retained health record of an unregistered
#: device counts as left over from a removed device.
REGISTRY_SETTLE_S = 10.0
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
        self._publishes = settings.gateway_role != "history"  # derives live state
        self._failover = settings.failover
        # Publishes live state now: always without failover, while owning the lease with it.
        self._active = self._publishes and not self._failover
        self._lease = LiveLease(settings.gateway_id)
        #: After (re)connecting, how long the retained registry may take to arrive: a
        #: retained health record of a device still unknown then is cleared (removed
        #: device). Tests lower it before start().
        self.registry_settle_s = REGISTRY_SETTLE_S
        self._stores = settings.gateway_role != "live"
        self._health = HealthTracker(
            int(settings.health_interval_s * 1000), int(settings.stale_after_s * 1000)
        )
        self._dedupe = Deduper()
        self._reported: set[tuple[str, str]] = set()  # unassigned devices already logged
        #: device id -> the site its registry record is on (worker thread only): a
        #: device publishing under another site is refused (``wrong_site``).
        self._home_site: dict[str, str] = {}
        self._health_seen: dict[tuple[str, str], float] = {}  # retained health records
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
            after_done=self._flush_acks,
            run_done=self._dedupe.complete,
        )
        self._inbox: queue.SimpleQueue[Inbound | None] = queue.SimpleQueue()
        # The status topic means "serves live state": a history gateway says it runs
        # on its own topic and clears a status an earlier role may have left.
        status_topic = contract.gateway_status_topic(settings.gateway_id)
        clear: list[str] = []
        if not self._publishes:
            clear.append(status_topic)
            status_topic = contract.gateway_history_topic(settings.gateway_id)
        self._link = MqttLink(
            settings.broker,
            client_id=settings.client_id,
            protocol=settings.mqtt_protocol,
            status_topic=status_topic,
            subscriptions=subscriptions(settings),
            on_message=self._inbox.put,
            status_on_connect=STATUS_OFFLINE if self._failover else STATUS_ONLINE,
            on_connect=partial(self._inbox.put, _CONNECTED) if self._failover else None,
            clear_on_connect=clear,
            tls=settings.mqtt_tls(),
        )
        self._link.on_state_window(partial(self._inbox.put, _PUMP))  # states go from the worker
        self._worker = threading.Thread(target=self._work, name="gateway-worker", daemon=True)
        self._watch = RetentionWatch(self._history, self._metrics, settings.retention_check_s)
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
            self._watch.start()
        self._worker.start()
        self._link.start()

    def stop(self) -> None:
        """Handle what is queued, flush history, publish offline, disconnect, close files."""
        if not self._started:
            return
        self._started = False
        self._inbox.put(None)
        self._worker.join(10)
        self._watch.stop()
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

    def status(self) -> dict[str, Any]:
        """Broker link, history store and retention, with reasons (the health report)."""
        up = self.connected.is_set()
        self._metrics.mqtt_connected(up)
        failure = self._writer.last_failure if self._stores else None
        return {
            "at": time.time(),
            "role": self.settings.gateway_role,
            "mqtt": {
                "connected": up,
                "down_since": self._link.down_since,
                "reason": None if up else self._link.down_reason,
            },
            "history": {
                "stores": self._stores,
                "reachable": failure is None,
                "reason": failure,
                "spooled": self._writer.spooled(),
            },
            "retention": retention_of(self._history).as_dict()
            if self._stores
            else {"ok": True, "reason": "live-only gateway stores no history"},
        }

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

    def _flush_acks(self) -> None:
        self._link.flush_acks()

    def _work(self) -> None:
        interval_s = self.settings.tick_interval_ms / 1000
        next_tick = time.monotonic() + interval_s
        next_lease = time.monotonic() if self._failover else float("inf")
        handled = 0
        while True:
            if handled >= _ACK_EVERY or (handled and self._inbox.empty()):
                self._link.flush_acks()  # acks of what the worker settled itself
                handled = 0
            wake = min(next_tick, next_lease)
            try:
                item = self._inbox.get(timeout=max(0.0, wake - time.monotonic()))
            except queue.Empty:
                item = _TICK
            if item is None:
                self._link.flush_acks()
                return
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + interval_s
                self._tick()
            if time.monotonic() >= next_lease:
                next_lease = time.monotonic() + _LEASE_STEP_S
                self._lease_do(self._lease.step(int(time.time() * 1000)))
            if item is _CONNECTED:
                self._lease_do(self._lease.connected(int(time.time() * 1000)))
                continue
            if item is _PUMP:
                self._link.pump_states()
                continue
            if item is _TICK:
                continue
            handled += 1
            try:
                self._handle(item)
            except Exception:  # a bug must not stop ingestion; the message is dropped
                log.exception("internal error handling a message on %s", item.topic)
                self._metrics.event("internal_error")
                self._link.ack(item)

    def _tick(self) -> None:
        now_ms = int(time.time() * 1000)
        self._metrics.inbox_depth(self._inbox.qsize())
        self._metrics.mqtt_connected(self._link.connected.is_set())  # embedded gateways too
        if not self._publishes:
            return
        with self._live_lock:
            changes = self._live.tick(now_ms)
            due = self._health.due(now_ms) if self._active else []
            health = [(h.site, h.device_id, h.payload()) for h in due]
        self._publish(changes)
        for site, device_id, payload in health:
            self._link.publish(health_topic(site, device_id), payload, qos=1, retain=True)
        if self._health_seen and self._active:
            self._sweep_health()

    def _lease_do(self, action: Action) -> None:
        """Carry out what the live-state lease decided (worker thread only)."""
        now_ms = int(time.time() * 1000)
        if action in (Action.CLAIM, Action.RENEW):
            payload = lease_payload(self.settings.gateway_id, now_ms, self._lease.lease_ms)
            self._link.publish(LEASE_TOPIC, payload, qos=1, retain=True)
        elif action is Action.ACTIVATE:
            # Every space and health record, then "online": a backend trusts the
            # states only once some gateway says online, so they must be ours first.
            with self._live_lock:
                self._live.tick(now_ms)
                states = self._live.states()
                health = [(h.site, h.device_id, h.payload()) for h in self._health.records()]
                self._health.due(now_ms)  # all published now: nothing is dirty
            self._active = True
            self._publish(states)
            for site, device_id, payload in health:
                self._link.publish(health_topic(site, device_id), payload, qos=1, retain=True)
            self._link.set_status(online=True)
            self._metrics.event("lease_acquired")
            log.info("live state: this gateway took over (%d spaces)", len(states))
        elif action is Action.DEACTIVATE:
            self._active = False
            self._link.set_status(online=False)
            self._metrics.event("lease_lost")
            log.warning("live state: lease now held by %s; standing by", self._lease.owner)

    def health(self) -> list[dict[str, Any]]:
        """Every device's health record as published (for tests and embedding apps)."""
        with self._live_lock:
            return [json.loads(r.payload()) for r in self._health.records()]

    def _handle(self, inbound: Inbound) -> None:
        if _HEALTH_LEVEL in inbound.topic:
            self._retained_health(inbound)
            self._link.ack(inbound)
            return
        if inbound.topic.startswith(_GATEWAY_PREFIX) and self._failover:
            self._lease_message(inbound)
        if inbound.topic.startswith(_GATEWAY_PREFIX):
            # Gateways' own status (ours included) matches the device status filter.
            self._metrics.event("ignored")
            self._link.ack(inbound)
            return
        self._metrics.received(topic_kind(inbound.topic))
        try:
            msg = parse_message(inbound.topic, inbound.payload, inbound.received_ms)
            self._check_site(msg)
        except InvalidMessage as exc:
            self._reject(inbound, exc)
            self._link.ack(inbound)
            return
        self._apply(inbound, msg)

    def _check_site(self, msg: Message) -> None:
        """Refuse a device message sent under another site than its registry record's.

        Device ids are unique across sites (the broker username is the device id),
        and the broker's ACL binds a device to its site; this is the same rule at
        the trust boundary, for brokers configured otherwise. A device the registry
        does not know yet is accepted (stored as unassigned).

        Raises:
            InvalidMessage: ``wrong_site``.
        """
        if isinstance(msg, RegistryMessage):
            if msg.assignment is not None:
                self._home_site[msg.device_id] = msg.site
            elif self._home_site.get(msg.device_id) == msg.site:
                del self._home_site[msg.device_id]
            return
        home = self._home_site.get(msg.device_id)
        if home is not None and home != msg.site:
            raise InvalidMessage(
                "wrong_site", f"device {msg.device_id} is registered on site {home}"
            )

    def _apply(self, inbound: Inbound, msg: Message) -> None:
        if isinstance(msg, PresenceMessage):
            self._presence(inbound, msg)
            return
        now_ms = int(time.time() * 1000)
        changes: list[SpaceState] = []
        removed = False
        with self._live_lock:
            if isinstance(msg, StatusMessage):
                changes = self._live.apply_status(msg, now_ms)
            elif isinstance(msg, RegistryMessage):
                changes = self._live.apply_registry(msg, now_ms)
                removed = msg.assignment is None
            self._health.apply(msg)
            if removed:  # gone from the registry: forget it, live state and health alike
                self._live.forget(msg.site, msg.device_id)
                self._health.forget(msg.site, msg.device_id)
                self._reported.discard((msg.site, msg.device_id))
            assignment = self._live.assignment(msg.site, msg.device_id)
        self._publish(changes)
        if removed:
            self._clear_health(msg.site, msg.device_id)
        if isinstance(msg, TelemetryMessage) and self._stores:
            point = telemetry_point(msg, assignment)
            self._writer.submit(point, partial(self._link.ack, inbound), inbound.received_s)
            return
        self._link.ack(inbound)

    def _lease_message(self, inbound: Inbound) -> None:
        now_ms = int(time.time() * 1000)
        if inbound.topic == LEASE_TOPIC:
            self._lease_do(self._lease.on_lease(inbound.payload, now_ms))
            return
        parts = inbound.topic.split("/")
        if len(parts) == 5 and parts[4] == "status":
            online = None if not inbound.payload else inbound.payload == STATUS_ONLINE.encode()
            self._lease.on_status(parts[3], online)

    def _retained_health(self, inbound: Inbound) -> None:
        """Note a retained health record as delivered on (re)subscribing.

        Ours are echoed back too; only retained deliveries matter: a record left by
        an earlier run for a device removed from the registry meanwhile is cleared by
        :meth:`_sweep_health` once the registry had time to arrive.
        """
        parts = inbound.topic.split("/")
        if not (inbound.retain and inbound.payload and len(parts) == 5 and parts[3] == "_health"):
            return
        if contract.is_valid_id(parts[2]) and contract.is_valid_id(parts[4]):
            self._health_seen.setdefault((parts[2], parts[4]), time.monotonic())

    def _sweep_health(self) -> None:
        settle_s = self.registry_settle_s
        now = time.monotonic()
        due = [d for d, seen in self._health_seen.items() if now - seen >= settle_s]
        for site, device_id in due:
            del self._health_seen[(site, device_id)]
            with self._live_lock:
                known = self._live.assignment(site, device_id) is not None or self._health.has(
                    site, device_id
                )
            if not known:
                log.info("clearing the health record of removed device %s/%s", site, device_id)
                self._clear_health(site, device_id)

    def _clear_health(self, site: str, device_id: str) -> None:
        """Delete a device's retained health record (an empty retained payload)."""
        if self._active:
            self._link.publish(health_topic(site, device_id), b"", qos=1, retain=True)
            self._metrics.event("health_cleared")

    def _presence(self, inbound: Inbound, msg: PresenceMessage) -> None:
        device = (msg.site, msg.device_id)
        key = (msg.boot, msg.seq, None if msg.boot is not None else msg.device_ts)
        if msg.boot is None and msg.device_ts is None and self._dedupe.follow_seq(device, msg.seq):
            self._metrics.event("seq_restart")
        on_stored = self._dedupe.check(device, key, partial(self._link.ack, inbound))
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
        if not self._active:
            return
        replaced = 0
        for state in changes:
            replaced += self._link.publish_state(state.topic, state.payload())
        self._metrics.event("published", len(changes))
        self._metrics.event("state_superseded", replaced)

    def _reject(self, inbound: Inbound, exc: InvalidMessage) -> None:
        if self._reject_log.allow():
            log.warning("rejected %s [%s]: %s", inbound.topic[:200], exc.reason, exc.detail)
        self._metrics.rejected(exc.reason)
        device = device_of_topic(inbound.topic)
        if device is not None and exc.reason == "wrong_site":
            # counted on the device's real record, never one under the foreign site
            device = (self._home_site.get(device[1], device[0]), device[1])
        if device is not None:
            with self._live_lock:
                self._health.error(device[0], device[1], exc.reason, inbound.received_ms)
        try:
            self._dead.add(DeadLetter.of(inbound, exc.reason, exc.detail))
        except sqlite3.Error as err:
            log.error("could not store a dead letter: %s", err)


_TICK: Any = object()
_PUMP: Any = object()  # the broker acked space states: hand waiting ones to paho
_CONNECTED: Any = object()  # the MQTT link (re)connected
#: How often the live-state lease is looked at (takeover takes about settle + this).
_LEASE_STEP_S = 0.1
#: The worker sends its own acks (duplicates, rejections, status) at least this often.
_ACK_EVERY = 100
