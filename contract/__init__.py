"""Contract v1: every message the services send each other, one encoder and one parser each.

Modules, one per message kind (see docs/mqtt-contract.md)::

    topics.py       topic tree, ids, builders, parse_topic -> Route(kind, site, ...)
    errors.py       ContractError (reason codes), TopicError
    kinds.py        the table of kinds; other modules register theirs (hvac, bridge)
    device.py       presence, status, telemetry (parser; the firmware encodes)
    registry.py     _registry/<device_id>      backend -> gateway
    space_state.py  _space/<space_id>/state    gateway -> backend, screens
    health.py       _health/<device_id>        gateway -> backend
    status.py       _gateway/<id>/status, /history, /sync
    lease.py        _gateway/_live/lease       live gateway -> live gateways
    hvac.py         _zone/<floor>/<zone>/hvac  backend -> building management system

The firmware cannot import this package (MicroPython has no access to the
installed package), so it keeps its own encoder of the device messages; the
golden files in ``tests/contracts/v1`` (one per kind) pin both sides. This package
imports nothing from gateway, backend or werkplek.
"""

from __future__ import annotations

from contract import bridge, device, health, hvac, lease, registry, space_state, status
from contract.device import STATUS_OFFLINE, STATUS_ONLINE
from contract.errors import REASON_CODES, ContractError, TopicError
from contract.kinds import KINDS, Kind, register
from contract.topics import (
    DEVICE_KINDS,
    ID_PATTERN,
    LEASE_TOPIC,
    MAX_PAYLOAD_BYTES,
    PREFIX,
    ROOT,
    SPACE_ID_PATTERN,
    SUB_GATEWAY_STATUS,
    SUB_HEALTH,
    SUB_PRESENCE,
    SUB_REGISTRY,
    SUB_SPACE_STATE,
    SUB_STATUS,
    SUB_TELEMETRY,
    VERSION,
    DeviceTopic,
    Route,
    claimed_kind,
    device_of_topic,
    device_topic,
    gateway_history_topic,
    gateway_status_topic,
    gateway_sync_topic,
    health_topic,
    is_valid_id,
    is_valid_space_id,
    parse_device_topic,
    parse_registry_topic,
    parse_space_state_topic,
    parse_topic,
    registry_topic,
    space_state_topic,
)

__all__ = [
    "DEVICE_KINDS",
    "ID_PATTERN",
    "KINDS",
    "LEASE_TOPIC",
    "MAX_PAYLOAD_BYTES",
    "PREFIX",
    "REASON_CODES",
    "ROOT",
    "SPACE_ID_PATTERN",
    "STATUS_OFFLINE",
    "STATUS_ONLINE",
    "SUB_GATEWAY_STATUS",
    "SUB_HEALTH",
    "SUB_PRESENCE",
    "SUB_REGISTRY",
    "SUB_SPACE_STATE",
    "SUB_STATUS",
    "SUB_TELEMETRY",
    "VERSION",
    "ContractError",
    "DeviceTopic",
    "Kind",
    "Route",
    "TopicError",
    "bridge",
    "claimed_kind",
    "device",
    "device_of_topic",
    "device_topic",
    "gateway_history_topic",
    "gateway_status_topic",
    "gateway_sync_topic",
    "health",
    "health_topic",
    "hvac",
    "is_valid_id",
    "is_valid_space_id",
    "lease",
    "parse_device_topic",
    "parse_registry_topic",
    "parse_space_state_topic",
    "parse_topic",
    "register",
    "registry",
    "registry_topic",
    "space_state",
    "space_state_topic",
    "status",
]
