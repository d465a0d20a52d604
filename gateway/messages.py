"""What the gateway consumes, routed by parsed topic kind to the contract's parsers.

The parsers themselves live in :mod:`contract` (one per message kind); the
gateway takes device messages (presence, status, telemetry) and the registry.
Anything else on its subscriptions is refused as ``bad_topic``.
"""

from __future__ import annotations

from contract.device import (
    PresenceMessage,
    StatusMessage,
    TelemetryMessage,
    parse_device_message,
)
from contract.errors import ContractError
from contract.registry import Assignment, RegistryMessage, parse_registry
from contract.topics import parse_topic

Message = PresenceMessage | StatusMessage | TelemetryMessage | RegistryMessage
#: Kinds routed to :func:`contract.device.parse_device_message`.
_DEVICE_KINDS = frozenset(("presence", "status", "telemetry"))

__all__ = [
    "Assignment",
    "Message",
    "PresenceMessage",
    "RegistryMessage",
    "StatusMessage",
    "TelemetryMessage",
    "parse_message",
]


def parse_message(topic: str, payload: bytes, received_ms: int) -> Message:
    """Validate one inbound message.

    Args:
        topic: the MQTT topic it arrived on.
        payload: the raw payload.
        received_ms: gateway receive time in unix ms (used for clock correction).

    Raises:
        ContractError: with the reason code of the first broken rule.
    """
    route = parse_topic(topic)
    if route.kind in _DEVICE_KINDS:
        return parse_device_message(route, payload, received_ms)
    if route.kind == "registry":
        return parse_registry(route, payload, received_ms)
    raise ContractError("bad_topic", f"the gateway does not consume {route.kind!r} topics")
