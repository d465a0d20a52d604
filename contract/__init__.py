"""The MQTT topic tree of contract v1, shared by the gateway, the backend and the demo.

The firmware cannot import this module (MicroPython has no access to the
installed package), so it keeps its own copy of the device topics and the
presence payload in ``firmware/wp_config.py`` and ``firmware/node.py``; the golden
messages in ``tests/contracts/v1`` keep both sides honest. Payload validation lives
with the consumer (``gateway/messages.py``).

Topic tree (see docs/mqtt-contract.md)::

    werkplek/v1/<site>/<device_id>/presence     device -> gateway, QoS 1
    werkplek/v1/<site>/<device_id>/status       device (LWT) -> all, retained
    werkplek/v1/<site>/<device_id>/telemetry    device -> gateway, QoS 0
    werkplek/v1/<site>/<device_id>/config       backend -> device, retained
    werkplek/v1/<site>/_registry/<device_id>    backend -> gateway, retained
    werkplek/v1/<site>/_space/<space_id>/state  gateway -> backend, screens, retained
    werkplek/v1/<site>/_health/<device_id>      gateway -> backend, retained
    werkplek/v1/_gateway/<gateway_id>/status    serves live state: online/offline (LWT), retained
    werkplek/v1/_gateway/<gateway_id>/history   history gateway runs: online/offline (LWT)
    werkplek/v1/_gateway/_live/lease            live-state owner's lease, retained
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROOT = "werkplek"
VERSION = 1
PREFIX = f"{ROOT}/v{VERSION}"

#: Device and site ids: lowercase, digits and dashes; a leading underscore is
#: reserved for service topics, so a device can never collide with them. Always
#: applied with ``fullmatch``: ``$`` would let a trailing newline through, and a
#: newline in a topic makes the broker drop the publisher's connection.
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
#: Space ids may also carry dots and underscores (``hq.2.d-014``).
SPACE_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")

DEVICE_KINDS = ("presence", "status", "telemetry", "config")
MAX_PAYLOAD_BYTES = 1024

STATUS_ONLINE = "online"
STATUS_OFFLINE = "offline"

# Subscriptions used by the services.
SUB_PRESENCE = f"{PREFIX}/+/+/presence"
SUB_STATUS = f"{PREFIX}/+/+/status"
SUB_TELEMETRY = f"{PREFIX}/+/+/telemetry"
SUB_REGISTRY = f"{PREFIX}/+/_registry/+"
SUB_SPACE_STATE = f"{PREFIX}/+/_space/+/state"
SUB_HEALTH = f"{PREFIX}/+/_health/+"


def is_valid_id(value: str) -> bool:
    """Return True when ``value`` may be used as a site or device id."""
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


def is_valid_space_id(value: str) -> bool:
    """Return True when ``value`` may be used as a space id."""
    return isinstance(value, str) and SPACE_ID_PATTERN.fullmatch(value) is not None


def device_topic(site: str, device_id: str, kind: str) -> str:
    """Build a device topic such as ``werkplek/v1/hq/d-0001/presence``."""
    if kind not in DEVICE_KINDS:
        raise ValueError(f"unknown device topic kind {kind!r}")
    return f"{PREFIX}/{site}/{device_id}/{kind}"


def registry_topic(site: str, device_id: str) -> str:
    """Build the retained topic that assigns a device to a space."""
    return f"{PREFIX}/{site}/_registry/{device_id}"


def space_state_topic(site: str, space_id: str) -> str:
    """Build the retained topic that carries the live state of one space."""
    return f"{PREFIX}/{site}/_space/{space_id}/state"


def gateway_status_topic(gateway_id: str) -> str:
    """Build the retained topic that says whether a gateway serves live state.

    Only a gateway that publishes space states says ``online`` here: consumers
    trust the retained space states while one does, so a history gateway must
    never speak on it (see :func:`gateway_history_topic`).
    """
    return f"{PREFIX}/_gateway/{gateway_id}/status"


def gateway_history_topic(gateway_id: str) -> str:
    """Build the retained online/offline topic of a ``history`` gateway (its Last Will).

    Kept apart from :func:`gateway_status_topic` so that a running history
    gateway can never hide a dead live gateway from the backend.
    """
    return f"{PREFIX}/_gateway/{gateway_id}/history"


@dataclass(frozen=True, slots=True)
class DeviceTopic:
    """A parsed device topic."""

    site: str
    device_id: str
    kind: str


class TopicError(ValueError):
    """A topic does not follow the contract; the message names the broken part."""


def parse_device_topic(topic: str) -> DeviceTopic:
    """Split a device topic into its parts.

    Raises:
        TopicError: the topic has the wrong shape, version or an invalid id.
    """
    parts = topic.split("/")
    if len(parts) != 5:
        raise TopicError(f"expected 5 topic levels, got {len(parts)}")
    root, version, site, device_id, kind = parts
    if root != ROOT:
        raise TopicError(f"topic root must be {ROOT!r}")
    if version != f"v{VERSION}":
        raise TopicError(f"unsupported contract version {version!r}")
    if not is_valid_id(site):
        raise TopicError(f"invalid site id {site!r}")
    if not is_valid_id(device_id):
        raise TopicError(f"invalid device id {device_id!r}")
    if kind not in DEVICE_KINDS:
        raise TopicError(f"unknown topic kind {kind!r}")
    return DeviceTopic(site=site, device_id=device_id, kind=kind)


def parse_registry_topic(topic: str) -> tuple[str, str]:
    """Return ``(site, device_id)`` of a registry topic.

    Raises:
        TopicError: the topic is not a registry topic.
    """
    parts = topic.split("/")
    if len(parts) != 5 or parts[:2] != [ROOT, f"v{VERSION}"] or parts[3] != "_registry":
        raise TopicError("not a registry topic")
    if not (is_valid_id(parts[2]) and is_valid_id(parts[4])):
        raise TopicError("invalid site or device id in registry topic")
    return parts[2], parts[4]


def parse_space_state_topic(topic: str) -> tuple[str, str]:
    """Return ``(site, space_id)`` of a space state topic.

    Raises:
        TopicError: the topic is not a space state topic.
    """
    parts = topic.split("/")
    if (
        len(parts) != 6
        or parts[:2] != [ROOT, f"v{VERSION}"]
        or parts[3] != "_space"
        or parts[5] != "state"
    ):
        raise TopicError("not a space state topic")
    if not (is_valid_id(parts[2]) and is_valid_space_id(parts[4])):
        raise TopicError("invalid site or space id in space state topic")
    return parts[2], parts[4]
