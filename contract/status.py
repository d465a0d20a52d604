"""A gateway's own messages: its status, its history run and its sync marker.

``_gateway/<id>/status`` (retained, Last Will ``offline``) says whether a
gateway serves live state; a ``history`` gateway speaks on ``_gateway/<id>/history``
instead. Both carry the device status words (:func:`contract.device.parse_online`).
``_gateway/<id>/sync`` is a gateway's marker to itself (see
:func:`contract.topics.gateway_sync_topic`): ``<generation>`` as text.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.device import encode_online, parse_online
from contract.errors import ContractError, TopicError
from contract.kinds import Kind, register
from contract.topics import Route, parse_topic

for _name, _direction in (
    ("gateway_status", "gateway (Last Will) -> backend and gateways, retained"),
    ("gateway_history", "history gateway (Last Will) -> operators, retained"),
    ("gateway_sync", "gateway -> itself, QoS 1, not retained"),
):
    register(Kind(_name, _direction))

SYNC_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class GatewayStatus:
    """A gateway's status; ``online`` None means the retained status was cleared."""

    gateway_id: str
    online: bool | None


def encode_gateway_status(online: bool) -> bytes:
    """The status payload of a gateway: ``online`` or ``offline``."""
    return encode_online(online)


def parse_gateway_status(topic: str | Route, payload: bytes) -> GatewayStatus:
    """Validate a gateway status (or history run) message.

    Raises:
        ContractError: ``bad_topic`` for another kind, ``bad_status`` for another word.
    """
    route = parse_topic(topic) if isinstance(topic, str) else topic
    if route.kind not in ("gateway_status", "gateway_history"):
        raise TopicError("not a gateway status topic")
    gateway_id = route.gateway_id or ""
    if not payload:
        return GatewayStatus(gateway_id, None)
    return GatewayStatus(gateway_id, parse_online(payload))


def encode_sync(generation: int) -> bytes:
    """The sync marker of one connection generation."""
    return str(generation).encode()


def parse_sync(payload: bytes) -> int:
    """The connection generation a sync marker names.

    Raises:
        ContractError: ``bad_type`` when it is not a decimal number.
    """
    text = payload.decode("ascii", "replace")
    if not text.isdigit() or len(text) > 19 or int(text) > SYNC_MAX:
        raise ContractError("bad_type", f"sync marker is not a generation number: {text!r:.20}")
    return int(text)
