"""The Gateway: builds its parts from the settings, runs the worker, starts and stops.

Threads: paho's network loop only enqueues; one worker hands each message to
:class:`~gateway.ingest.Ingest` (validate, dedupe, live state, publish space
states at once); the history writer batches points separately (spooling to
disk while the store is down), so a slow or absent InfluxDB never delays live
state. Acks are queued and sent in one write per stored batch (and by the
worker for what it settles itself). Roles: ``all`` does everything;
``history`` gateways share device messages over ``$share/<group>/`` and only
store them; ``live`` gateways only derive live state and health, and of
several only the holder of the lease (:mod:`gateway.lease`) publishes. Only a
gateway that serves live state speaks on ``_gateway/<id>/status``; a history
gateway uses ``_gateway/<id>/history``, so it never makes a dead live gateway
look alive. No signal handlers or logging setup here: the demo embeds this class.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from functools import partial
from typing import Any

from prometheus_client import start_http_server

import contract
from contract.device import parse_online
from contract.errors import ContractError
from contract.topics import gateway_sync_topic, health_topic, parse_topic
from gateway.deadletter import DeadLetter, DeadLetterStore
from gateway.dedupe import Deduper
from gateway.health import HealthTracker
from gateway.ingest import Ingest
from gateway.lease import LEASE_TOPIC, Action, LiveLease, lease_payload
from gateway.live import LiveState
from gateway.metrics import GatewayMetrics
from gateway.mqtt import Inbound, MqttLink
from gateway.ratelimit import LogBudget
from gateway.settings import GatewaySettings
from gateway.settle import RegistrySettle
from gateway.spool import Spool
from gateway.status import RetentionWatch, retention_of
from gateway.wiring import create_history, subscriptions
from gateway.writer import HistoryWriter
from history import HistoryStore

log = logging.getLogger(__name__)

#: Seconds after a (re)connect the retained registry may take to arrive: messages of
#: devices still unknown are held that long at most (the sync marker usually ends it
#: much sooner), and a retained health record of a device unknown then is cleared.
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
        self._lease = LiveLease(settings.gateway_id)
        self._stores = settings.gateway_role != "live"
        self._health = HealthTracker(
            int(settings.health_interval_s * 1000), int(settings.stale_after_s * 1000)
        )
        self._settle = RegistrySettle(
            settings.state_dir / f"registry-{settings.gateway_id}.json", REGISTRY_SETTLE_S
        )
        dedupe = Deduper()
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
            run_done=dedupe.complete,
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
            online_on_connect=not self._failover,  # a live standby says offline
            on_connect=partial(self._inbox.put, _CONNECTED),
            clear_on_connect=clear,
            tls=settings.mqtt_tls(),
            sync_topic=gateway_sync_topic(settings.gateway_id),
        )
        self._link.on_state_window(partial(self._inbox.put, _PUMP))  # states go from the worker
        self._ingest = Ingest(
            live=self._live,
            live_lock=self._live_lock,
            health=self._health,
            link=self._link,
            writer=self._writer,
            dead=self._dead,
            metrics=self._metrics,
            settle=self._settle,
            dedupe=dedupe,
            reject_log=LogBudget(settings.rejection_log_per_min, log, "rejections"),
            publishes=self._publishes,
            stores=self._stores,
            on_gateway=self._gateway_message if self._failover else None,
        )
        # Publishes live state now: always without failover, while owning the lease with it.
        self._ingest.active = self._publishes and not self._failover
        self._worker = threading.Thread(target=self._work, name="gateway-worker", daemon=True)
        self._watch = RetentionWatch(self._history, self._metrics, settings.retention_check_s)
        self._metrics_server: Any = None
        self._started = False

    @property
    def registry_settle_s(self) -> float:
        """After (re)connecting, how long the retained registry may take (tests lower it)."""
        return self._settle.settle_s

    @registry_settle_s.setter
    def registry_settle_s(self, seconds: float) -> None:
        self._settle.settle_s = seconds

    @property
    def connected(self) -> threading.Event:
        """Set while the MQTT connection is up and the broker acked every subscription."""
        return self._link.subscribed

    def start(self) -> None:
        """Start the threads and connect; returns at once (the writer creates the schema)."""
        if self._started:
            return
        self._started = True
        for msg in self._settle.load(int(time.time() * 1000)):
            self._ingest.apply_registry(msg)  # the registry the last run ended with
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
        self._settle.save()
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

    @property
    def metrics(self) -> GatewayMetrics:
        """The metrics object (its ``registry`` can be exposed by an embedding app)."""
        return self._metrics

    def health(self) -> list[dict[str, Any]]:
        """Every device's health record as published (for tests and embedding apps)."""
        with self._live_lock:
            return [json.loads(r.payload()) for r in self._health.records()]

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
                self._ingest.connected()
                if self._failover:
                    self._lease_do(self._lease.connected(int(time.time() * 1000)))
                continue
            if item is _PUMP:
                self._link.pump_states()
                continue
            if item is _TICK:
                continue
            handled += 1
            try:
                self._ingest.handle(item)
            except Exception:  # a bug must not stop ingestion; the message is dropped
                log.exception("internal error handling a message on %s", item.topic)
                self._metrics.event("internal_error")
                self._link.ack(item)

    def _tick(self) -> None:
        now_ms = int(time.time() * 1000)
        self._metrics.inbox_depth(self._inbox.qsize())
        self._metrics.mqtt_connected(self._link.connected.is_set())  # embedded gateways too
        self._ingest.tick()
        if not self._publishes:
            return
        active = self._ingest.active
        with self._live_lock:
            changes = self._live.tick(now_ms)
            due = self._health.due(now_ms) if active else []
            health = [(h.site, h.device_id, h.payload()) for h in due]
        self._ingest.publish(changes)
        for site, device_id, payload in health:
            self._link.publish(health_topic(site, device_id), payload, qos=1, retain=True)
        if active:
            self._ingest.sweep_health(self._settle.settle_s)

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
            self._ingest.active = True
            self._ingest.publish(states)
            for site, device_id, payload in health:
                self._link.publish(health_topic(site, device_id), payload, qos=1, retain=True)
            self._link.set_status(online=True)
            self._metrics.event("lease_acquired")
            log.info("live state: this gateway took over (%d spaces)", len(states))
        elif action is Action.DEACTIVATE:
            self._ingest.active = False
            self._link.set_status(online=False)
            self._metrics.event("lease_lost")
            log.warning("live state: lease now held by %s; standing by", self._lease.owner)

    def _gateway_message(self, inbound: Inbound) -> None:
        """A lease or a gateway's status: what the lease state machine follows."""
        try:
            route = parse_topic(inbound.topic)
        except ContractError:
            return  # a broken gateway topic: ignored, as every gateway topic not ours
        if route.kind == "lease":
            self._lease_do(self._lease.on_lease(inbound.payload, int(time.time() * 1000)))
        elif route.kind == "gateway_status" and route.gateway_id is not None:
            try:
                online: bool | None = parse_online(inbound.payload) if inbound.payload else None
            except ContractError:
                online = False  # an unreadable status counts as not online
            self._lease.on_status(route.gateway_id, online)


_TICK: Any = object()
_PUMP: Any = object()  # the broker acked space states: hand waiting ones to paho
_CONNECTED: Any = object()  # the MQTT link (re)connected
#: How often the live-state lease is looked at (takeover takes about settle + this).
_LEASE_STEP_S = 0.1
#: The worker sends its own acks (duplicates, rejections, status) at least this often.
_ACK_EVERY = 100
