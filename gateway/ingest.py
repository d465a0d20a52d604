"""Inbound routing of the gateway: one message in, by its parsed topic kind (worker thread).

Device messages and the registry are validated (:mod:`gateway.messages`), checked
against the device's registered site, deduplicated, applied to live state and
health, and handed to the history writer, which acks them once stored. The
gateway's own topics (health records, status, lease, sync marker) are routed
by kind too. Messages of devices the registry does not know yet wait in
:class:`~gateway.settle.RegistrySettle` while the registry settles.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from functools import partial

from contract.device import PresenceMessage, StatusMessage, TelemetryMessage
from contract.errors import ContractError
from contract.registry import RegistryMessage
from contract.space_state import SpaceState
from contract.status import parse_sync
from contract.topics import claimed_kind, device_of_topic, health_topic, parse_topic
from gateway.deadletter import DeadLetter, DeadLetterStore
from gateway.dedupe import Deduper
from gateway.health import HealthTracker
from gateway.live import LiveState
from gateway.messages import Message, parse_message
from gateway.metrics import GatewayMetrics
from gateway.mqtt import Inbound, MqttLink
from gateway.points import point_from_message, telemetry_point
from gateway.ratelimit import LogBudget
from gateway.settle import Held, RegistrySettle
from gateway.wiring import topic_kind
from gateway.writer import HistoryWriter

log = logging.getLogger(__name__)

#: Gateway topics (``_gateway/...``) other gateways' state rides on.
_GATEWAY_KINDS = frozenset(("gateway_status", "gateway_history", "lease"))


class Ingest:
    """Handles each inbound message; ``active`` says whether live state is published now."""

    def __init__(
        self,
        *,
        live: LiveState,
        live_lock: threading.Lock,
        health: HealthTracker,
        link: MqttLink,
        writer: HistoryWriter,
        dead: DeadLetterStore,
        metrics: GatewayMetrics,
        settle: RegistrySettle,
        dedupe: Deduper,
        reject_log: LogBudget,
        publishes: bool,
        stores: bool,
        on_gateway: Callable[[Inbound], None] | None,
    ) -> None:
        self._live, self._live_lock, self._health = live, live_lock, health
        self._link, self._writer, self._dead = link, writer, dead
        self._metrics, self.settle, self._reject_log = metrics, settle, reject_log
        self._publishes, self._stores, self._on_gateway = publishes, stores, on_gateway
        self.active = False
        self._dedupe = dedupe
        self._reported: set[tuple[str, str]] = set()  # unassigned devices already logged
        #: device id -> the site its registry record is on: a device publishing under
        #: another site is refused (``wrong_site``).
        self._home_site: dict[str, str] = {}
        self._health_seen: dict[tuple[str, str], float] = {}  # retained health records

    def handle(self, inbound: Inbound) -> None:
        """Route and handle one message; it is acked here or once stored."""
        kind = claimed_kind(inbound.topic)  # broken service topics go to their kind too
        if kind == "health":
            self._retained_health(inbound)
            self._link.ack(inbound)
            return
        if kind == "gateway_sync":
            self._sync(inbound)
            self._link.ack(inbound)
            return
        if kind in _GATEWAY_KINDS:
            if self._on_gateway is not None:
                self._on_gateway(inbound)
            # Gateways' own status (ours included) matches the device status filter.
            self._metrics.event("ignored")
            self._link.ack(inbound)
            return
        self._metrics.received(topic_kind(inbound.topic))
        try:
            msg = parse_message(inbound.topic, inbound.payload, inbound.received_ms)
            self._check_site(msg)
        except ContractError as exc:
            self._reject(inbound, exc)
            self._link.ack(inbound)
            return
        waiting = self.settle.settling or self.settle.held()  # else nothing is held: no lock
        if waiting and self._stores and isinstance(msg, (PresenceMessage, TelemetryMessage)):
            device = (msg.site, msg.device_id)
            with self._live_lock:
                known = self._live.assignment(*device) is not None
            if self.settle.hold(device, known, inbound, msg):
                self._metrics.event("registry_held")
                return
        self._apply(inbound, msg)
        if isinstance(msg, RegistryMessage):
            self.settle.note(msg)
            self._apply_held(self.settle.release((msg.site, msg.device_id)))

    def apply_registry(self, msg: RegistryMessage) -> None:
        """Apply a registry message that did not come from the broker (file, removal)."""
        self._check_site(msg)
        self._apply(None, msg)
        self.settle.note(msg)

    def connected(self) -> None:
        """The link (re)connected: the registry settles again."""
        self.settle.connected()

    def tick(self) -> None:
        """Release what waits for a registry that did not settle in time; save the registry."""
        if self.settle.expired():
            self.settle.timed_out()
            self._release_all()
        self.settle.save()

    def _sync(self, inbound: Inbound) -> None:
        """Our sync marker: the retained registry of this connection has been delivered."""
        try:
            parse_topic(inbound.topic)
            marker = parse_sync(inbound.payload)
        except ContractError:
            return
        current = (self._link.run_id, inbound.generation)
        if (marker.run, marker.generation) != current or not self.settle.settling:
            return  # a marker of an earlier run or connection (queued in the session)
        for removal in self.settle.synced():
            self.apply_registry(removal)
        self._release_all()

    def _release_all(self) -> None:
        held = self.settle.release_all()
        if held:
            log.info("registry settled: storing %d held messages", len(held))
        self._apply_held(held)

    def _apply_held(self, held: list[Held]) -> None:
        """Apply released messages; the registry that arrived meanwhile may refuse their site."""
        for item in held:
            try:
                self._check_site(item.msg)
            except ContractError as exc:
                self._reject(item.inbound, exc)
                self._link.ack(item.inbound)
                continue
            self._apply(item.inbound, item.msg)

    def _check_site(self, msg: Message) -> None:
        """Refuse a device message sent under another site than its registry record's.

        Device ids are unique across sites (the broker username is the device id),
        and the broker's ACL binds a device to its site; this is the same rule at
        the trust boundary, for brokers configured otherwise. A device the registry
        does not know yet is accepted (stored as unassigned).

        Raises:
            ContractError: ``wrong_site``.
        """
        if isinstance(msg, RegistryMessage):
            if msg.assignment is not None:
                self._home_site[msg.device_id] = msg.site
            elif self._home_site.get(msg.device_id) == msg.site:
                del self._home_site[msg.device_id]
            return
        home = self._home_site.get(msg.device_id)
        if home is not None and home != msg.site:
            raise ContractError(
                "wrong_site", f"device {msg.device_id} is registered on site {home}"
            )

    def _ack(self, inbound: Inbound | None) -> None:
        if inbound is not None:
            self._link.ack(inbound)

    def _apply(self, inbound: Inbound | None, msg: Message) -> None:
        if isinstance(msg, PresenceMessage):
            if inbound is not None:
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
        self.publish(changes)
        if removed:
            self.clear_health(msg.site, msg.device_id)
        if isinstance(msg, TelemetryMessage) and self._stores and inbound is not None:
            point = telemetry_point(msg, assignment)
            self._writer.submit(point, partial(self._link.ack, inbound), inbound.received_s)
            return
        self._ack(inbound)

    def _retained_health(self, inbound: Inbound) -> None:
        """Note a retained health record as delivered on (re)subscribing.

        Ours are echoed back too; only retained deliveries matter: a record left by
        an earlier run for a device removed from the registry meanwhile is cleared by
        :meth:`sweep_health` once the registry had time to arrive.
        """
        device = device_of_health(inbound.topic)
        if inbound.retain and inbound.payload and device is not None:
            self._health_seen.setdefault(device, time.monotonic())

    def sweep_health(self, settle_s: float) -> None:
        """Clear retained health records of devices still unknown ``settle_s`` after delivery."""
        if not self._health_seen:
            return
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
                self.clear_health(site, device_id)

    def clear_health(self, site: str, device_id: str) -> None:
        """Delete a device's retained health record (an empty retained payload)."""
        if self.active:
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
        self.publish(changes)
        if not applied:
            self._metrics.event("out_of_order")
        if msg.clock_corrected:
            self._metrics.event("clock_corrected")
        if assignment is None:
            self._metrics.event("unassigned_device")
            if device not in self._reported:
                self._reported.add(device)
                log.warning("presence from unassigned device %s/%s", msg.site, msg.device_id)
        if self._stores:
            self._writer.submit(point_from_message(msg, assignment), on_stored, inbound.received_s)
        else:
            on_stored()

    def publish(self, changes: list[SpaceState]) -> None:
        """Publish changed space states, while this gateway serves live state."""
        if not self.active:
            return
        replaced = 0
        for state in changes:
            replaced += self._link.publish_state(state.topic, state.payload())
        self._metrics.event("published", len(changes))
        self._metrics.event("state_superseded", replaced)

    def _reject(self, inbound: Inbound, exc: ContractError) -> None:
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


def device_of_health(topic: str) -> tuple[str, str] | None:
    """``(site, device_id)`` of a valid health record topic, else None."""
    try:
        route = parse_topic(topic)
    except ContractError:
        return None
    if route.kind != "health" or route.site is None or route.device_id is None:
        return None
    return route.site, route.device_id
