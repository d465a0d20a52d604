"""The MQTT topic tree of contract v1: ids, topic builders and routing by parsed kind.

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
    werkplek/v1/_gateway/<gateway_id>/sync      a gateway's own marker: its subscriptions are served
    werkplek/v1/_gateway/_live/lease            live-state owner's lease, retained

Consumers route by :func:`parse_topic`, never by looking for a substring.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from contract.errors import TopicError
from contract.kinds import SITE_LEVELS, Kind

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

GATEWAY_LEVEL = "_gateway"
#: ``_gateway/<id>/<leaf>`` kinds by leaf.
GATEWAY_LEAVES = {"status": "gateway_status", "history": "gateway_history", "sync": "gateway_sync"}
LEASE_TOPIC = f"{PREFIX}/{GATEWAY_LEVEL}/_live/lease"

# Subscriptions used by the services.
SUB_PRESENCE = f"{PREFIX}/+/+/presence"
SUB_STATUS = f"{PREFIX}/+/+/status"
SUB_TELEMETRY = f"{PREFIX}/+/+/telemetry"
SUB_REGISTRY = f"{PREFIX}/+/_registry/+"
SUB_SPACE_STATE = f"{PREFIX}/+/_space/+/state"
SUB_HEALTH = f"{PREFIX}/+/_health/+"
SUB_GATEWAY_STATUS = f"{PREFIX}/{GATEWAY_LEVEL}/+/status"


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


def health_topic(site: str, device_id: str) -> str:
    """Build the retained topic of a device's health record."""
    return f"{PREFIX}/{site}/_health/{device_id}"


def gateway_status_topic(gateway_id: str) -> str:
    """Build the retained topic that says whether a gateway serves live state.

    Only a gateway that publishes space states says ``online`` here: consumers
    trust the retained space states while one does, so a history gateway must
    never speak on it (see :func:`gateway_history_topic`).
    """
    return f"{PREFIX}/{GATEWAY_LEVEL}/{gateway_id}/status"


def gateway_history_topic(gateway_id: str) -> str:
    """Build the retained online/offline topic of a ``history`` gateway (its Last Will).

    Kept apart from :func:`gateway_status_topic` so that a running history
    gateway can never hide a dead live gateway from the backend.
    """
    return f"{PREFIX}/{GATEWAY_LEVEL}/{gateway_id}/history"


def gateway_sync_topic(gateway_id: str) -> str:
    """Build the topic a gateway publishes a marker to after subscribing (never retained).

    The broker sends a subscriber the retained messages of a new subscription
    before anything published after it, so the marker coming back means the
    retained registry has been delivered.
    """
    return f"{PREFIX}/{GATEWAY_LEVEL}/{gateway_id}/sync"


@dataclass(frozen=True, slots=True)
class DeviceTopic:
    """A parsed device topic."""

    site: str
    device_id: str
    kind: str


@dataclass(frozen=True, slots=True)
class Route:
    """What a topic is: its message kind and the ids its levels carry.

    ``ids`` holds the named levels of a registered kind other than ``device_id``
    and ``space_id`` (a zone's ``floor`` and ``zone``), as sorted pairs.
    """

    kind: str
    site: str | None = None
    device_id: str | None = None
    space_id: str | None = None
    gateway_id: str | None = None
    ids: tuple[tuple[str, str], ...] = ()

    def id(self, name: str) -> str | None:
        """The value of the named level ``name`` (None when the topic has none)."""
        return dict(self.ids).get(name)


def _check_prefix(parts: list[str]) -> None:
    if parts[0] != ROOT:
        raise TopicError(f"topic root must be {ROOT!r}")
    if len(parts) < 2 or parts[1] != f"v{VERSION}":
        raise TopicError(f"unsupported contract version {parts[1]!r}")


@functools.lru_cache(maxsize=65536)  # a fleet has a few topics per device: parse each once
def parse_topic(topic: str) -> Route:
    """Route a topic to its message kind.

    Raises:
        TopicError: the topic has the wrong shape, version, level or an invalid id.
    """
    parts = topic.split("/")
    if len(parts) < 5:
        raise TopicError(f"expected 5 topic levels, got {len(parts)}")
    _check_prefix(parts)
    if parts[2] == GATEWAY_LEVEL:
        return _gateway_route(parts)
    site = parts[2]
    if not is_valid_id(site):
        raise TopicError(f"invalid site id {site!r}")
    kind = SITE_LEVELS.get(parts[3])
    if kind is not None:
        return _site_route(kind, site, parts[3:])
    device = parse_device_topic(topic)
    return Route(device.kind, device.site, device_id=device.device_id)


def usable_level(value: str) -> bool:
    """True for a topic level that is not empty and holds no ``/``, ``+``, ``#`` or NUL."""
    return bool(value) and not any(c in value for c in "/+#\x00")


_DEFAULT_CHECKS = {"device_id": is_valid_id, "space_id": is_valid_space_id}


def _site_route(kind: Kind, site: str, levels: list[str]) -> Route:
    if len(levels) != len(kind.shape):
        raise TopicError(f"not a {kind.name} topic")
    checks = dict(kind.checks)
    found: dict[str, str] = {}
    for want, got in zip(kind.shape, levels, strict=True):
        if not want.startswith("{"):
            if got != want:
                raise TopicError(f"not a {kind.name} topic")
            continue
        name = want[1:-1]
        check = checks.get(name) or _DEFAULT_CHECKS.get(name, usable_level)
        if not check(got):
            raise TopicError(f"invalid {name} {got!r} in a {kind.name} topic")
        found[name] = got
    device_id, space_id = found.pop("device_id", None), found.pop("space_id", None)
    return Route(kind.name, site, device_id, space_id, ids=tuple(sorted(found.items())))


def _gateway_route(parts: list[str]) -> Route:
    if len(parts) != 5:
        raise TopicError(f"expected 5 topic levels, got {len(parts)}")
    if parts[3] == "_live" and parts[4] == "lease":
        return Route("lease")
    kind = GATEWAY_LEAVES.get(parts[4])
    if kind is None:
        raise TopicError(f"unknown gateway topic {parts[4]!r}")
    if not is_valid_id(parts[3]):
        raise TopicError(f"invalid gateway id {parts[3]!r}")
    return Route(kind, gateway_id=parts[3])


def parse_device_topic(topic: str) -> DeviceTopic:
    """Split a device topic into its parts.

    Raises:
        TopicError: the topic has the wrong shape, version or an invalid id.
    """
    parts = topic.split("/")
    if len(parts) != 5:
        raise TopicError(f"expected 5 topic levels, got {len(parts)}")
    _check_prefix(parts)
    root, version, site, device_id, kind = parts
    if not is_valid_id(site):
        raise TopicError(f"invalid site id {site!r}")
    if not is_valid_id(device_id):
        raise TopicError(f"invalid device id {device_id!r}")
    if kind not in DEVICE_KINDS:
        raise TopicError(f"unknown topic kind {kind!r}")
    return DeviceTopic(site=site, device_id=device_id, kind=kind)


def claimed_kind(topic: str) -> str | None:
    """The kind a topic is, or the kind its shape claims when its ids are broken.

    Routes a broken message to the consumer of its kind, which rejects and counts
    it (a ``_health`` topic with a bad device id is the health store's rejection).
    None when not even the shape names a kind.
    """
    try:
        return parse_topic(topic).kind
    except TopicError:
        pass
    parts = topic.split("/")
    if len(parts) < 5 or parts[0] != ROOT or parts[1] != f"v{VERSION}":
        return None
    if parts[2] == GATEWAY_LEVEL:
        return "lease" if parts[3:] == ["_live", "lease"] else GATEWAY_LEAVES.get(parts[-1])
    level = SITE_LEVELS.get(parts[3])
    return level.name if level is not None else None


def expect(topic: str | Route, kind: str) -> Route:
    """Route ``topic`` (or take the route already parsed) and insist on ``kind``.

    Raises:
        TopicError: the topic is invalid or of another kind.
    """
    route = parse_topic(topic) if isinstance(topic, str) else topic
    if route.kind != kind:
        raise TopicError(f"not a {kind} topic")
    return route


def parse_registry_topic(topic: str) -> tuple[str, str]:
    """Return ``(site, device_id)`` of a registry topic.

    Raises:
        TopicError: the topic is not a registry topic.
    """
    route = expect(topic, "registry")
    return route.site or "", route.device_id or ""


def parse_space_state_topic(topic: str) -> tuple[str, str]:
    """Return ``(site, space_id)`` of a space state topic.

    Raises:
        TopicError: the topic is not a space state topic.
    """
    route = expect(topic, "space_state")
    return route.site or "", route.space_id or ""


def device_of_topic(topic: str) -> tuple[str, str] | None:
    """``(site, device_id)`` of a device topic, even when the rest of the message is bad."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != ROOT or parts[1] != f"v{VERSION}":
        return None
    if not (is_valid_id(parts[2]) and is_valid_id(parts[3])):
        return None
    return parts[2], parts[3]
