"""Gateway counters: Prometheus metrics plus a plain snapshot for tests and the demo.

Each Gateway owns its own CollectorRegistry, so several gateways (tests, the
embedded demo) can live in one process without duplicate-metric errors.
"""

from __future__ import annotations

import threading
from collections import Counter as _Tally
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class GatewayMetrics:
    """Counts received, rejected, stored and published messages and ingest latency."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._lock = threading.Lock()
        self._tally: _Tally[str] = _Tally()
        self._children: dict[tuple[str, str], Any] = {}
        self._received = Counter(
            "werkplek_gateway_received_total",
            "Messages received, by topic kind",
            ["kind"],
            registry=self.registry,
        )
        self._rejected = Counter(
            "werkplek_gateway_rejected_total",
            "Messages rejected, by reason code",
            ["reason"],
            registry=self.registry,
        )
        self._events = Counter(
            "werkplek_gateway_events_total",
            "Gateway events: stored, published, out_of_order, history_retry, ...",
            ["event"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "werkplek_gateway_ingest_latency_seconds",
            "Time from MQTT receive to the point being stored",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

        self._spool_points = Gauge(
            "werkplek_gateway_spool_points",
            "Points waiting in the on-disk spool for the history store",
            registry=self.registry,
        )
        self._spool_capacity = Gauge(
            "werkplek_gateway_spool_capacity_points",
            "Capacity of the on-disk spool; the oldest points go beyond it",
            registry=self.registry,
        )
        self._spool_alarm = Gauge(
            "werkplek_gateway_spool_alarm",
            "1 while the spool is over its alarm level (80% of capacity)",
            registry=self.registry,
        )
        self._queue_depth = Gauge(
            "werkplek_gateway_inbox_depth",
            "Messages received but not yet handled by the worker",
            registry=self.registry,
        )
        self._retention_ok = Gauge(
            "werkplek_gateway_history_retention_ok",
            "1 while the history store's retention policies match the settings; 0 when they"
            " are missing or wrong (raw presence may be kept forever) or cannot be checked",
            registry=self.registry,
        )
        self._mqtt_connected = Gauge(
            "werkplek_gateway_mqtt_connected",
            "1 while the gateway is connected to the MQTT broker",
            registry=self.registry,
        )

    def retention(self, ok: bool | None) -> None:
        """Export whether retention is in place (unknown counts as not)."""
        self._retention_ok.set(1 if ok else 0)

    def mqtt_connected(self, up: bool) -> None:
        """Export the broker link state."""
        self._mqtt_connected.set(int(up))

    def spool_size(self, points: int, capacity: int, *, alarm: bool) -> None:
        """Export the spool's fill level and alarm state."""
        self._spool_points.set(points)
        self._spool_capacity.set(capacity)
        self._spool_alarm.set(int(alarm))

    def inbox_depth(self, depth: int) -> None:
        """Export the worker queue's depth."""
        self._queue_depth.set(depth)

    def received(self, kind: str) -> None:
        """Count one inbound message."""
        child = self._children.get(("received", kind))
        if child is None:  # labels() costs a lock and a lookup; it runs per message
            child = self._children[("received", kind)] = self._received.labels(kind=kind)
        child.inc()
        with self._lock:  # one round for both plain counters: this runs per message
            self._tally["received"] += 1
            self._tally["received." + kind] += 1

    def rejected(self, reason: str) -> None:
        """Count one rejection."""
        self._rejected.labels(reason=reason).inc()
        self._add("rejected")
        self._add(f"rejected.{reason}")

    def event(self, name: str, amount: int = 1) -> None:
        """Count ``amount`` occurrences of a named event (e.g. ``stored``)."""
        if amount:
            child = self._children.get(("event", name))
            if child is None:
                child = self._children[("event", name)] = self._events.labels(event=name)
            child.inc(amount)
            self._add(name, amount)

    def observe_latency(self, seconds: float) -> None:
        """Record one receive-to-stored latency."""
        self._latency.observe(max(0.0, seconds))

    def snapshot(self) -> dict[str, int]:
        """A copy of every plain counter."""
        with self._lock:
            return dict(self._tally)

    def _add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._tally[name] += amount
