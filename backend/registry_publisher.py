"""Keeps every device's retained ``_registry`` message on the broker in line with the DB.

Devices only know their own id; the gateway learns which space a device watches
from these retained messages, so moving a sensor needs no reflash. The whole set
is republished on every (re)connect, because a broker restarted without
persistence forgets retained messages.

A record whose site or device id breaks the contract is never published: a
newline or wildcard in a topic makes the broker drop the connection, and since
the whole set is republished on every reconnect, one such record would keep the
backend reconnecting for good. It is logged and skipped instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.orm import Session

from backend.spaces.models import Device, Space
from contract.registry import Assignment, encode_registry
from contract.topics import is_valid_id, registry_topic

log = logging.getLogger(__name__)

#: ``publish(topic, payload, retain)``; returns False when the message could not be queued.
PublishFn = Callable[[str, bytes, bool], bool]


def registry_payload(device: Device, space: Space | None) -> bytes:
    """The contract's registry message of a device; empty bytes mean "unassigned"."""
    if space is None:
        return encode_registry(None)
    assignment = Assignment(
        site=device.site_id,
        device_id=device.id,
        space_id=space.id,
        kind=space.kind,
        floor=space.floor_id,
        zone=space.zone,
        heartbeat_s=device.heartbeat_s,
    )
    return encode_registry(assignment)


def device_registry_topic(device: Device) -> str | None:
    """Return the device's registry topic, or None when an id would make it invalid."""
    if is_valid_id(device.site_id) and is_valid_id(device.id):
        return registry_topic(device.site_id, device.id)
    log.error(
        "registry: device %r of site %r breaks the id contract; not published",
        device.id,
        device.site_id,
    )
    return None


class RegistryPublisher:
    """Caches the registry messages and publishes them retained (QoS 1)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: dict[str, bytes] = {}
        self._publish: PublishFn | None = None

    def attach(self, publish: PublishFn | None) -> None:
        """Set (or clear) the function that sends a message to the broker."""
        self._publish = publish

    def load(self, session: Session) -> list[str]:
        """Rebuild the cache from the database; publish and return the topics that changed."""
        spaces = {space.id: space for space in session.query(Space).all()}
        messages = {}
        for device in session.query(Device).all():
            topic = device_registry_topic(device)
            if topic is None:
                continue
            space = spaces.get(device.space_id) if device.space_id else None
            messages[topic] = registry_payload(device, space)
        with self._lock:
            old, self._messages = self._messages, messages
        changed = [topic for topic, payload in messages.items() if old.get(topic) != payload]
        for topic in changed:
            self._send(topic, messages[topic])
        return changed

    def messages(self) -> dict[str, bytes]:
        """Return a copy of the cached topic -> payload map."""
        with self._lock:
            return dict(self._messages)

    def update(self, device: Device, space: Space | None) -> None:
        """Record one device's new assignment and publish it right away."""
        topic = device_registry_topic(device)
        if topic is None:
            return
        payload = registry_payload(device, space)
        with self._lock:
            self._messages[topic] = payload
        self._send(topic, payload)

    def publish_all(self) -> int:
        """Publish every cached message; called on each broker (re)connect."""
        sent = 0
        for topic, payload in self.messages().items():
            sent += self._send(topic, payload)
        log.info("registry: published %d retained device assignments", sent)
        return sent

    def _send(self, topic: str, payload: bytes) -> bool:
        if self._publish is None:
            return False
        try:
            ok = self._publish(topic, payload, True)
        except ValueError as exc:  # the client refused the topic: retrying cannot help
            log.error("registry: %s cannot be published (%s); skipped", topic[:200], exc)
            return False
        if not ok:
            log.warning("registry: could not queue %s; it is resent on reconnect", topic)
        return ok
