"""A gateway's own messages: its status, its history run and its sync marker.

``_gateway/<id>/status`` (retained, Last Will ``offline``) says whether a
gateway serves live state; a ``history`` gateway speaks on ``_gateway/<id>/history``
instead. Both carry the device status words (:func:`contract.device.parse_online`).
``_gateway/<id>/sync`` is a gateway's marker to itself (see
:func:`contract.topics.gateway_sync_topic`): ``<run>.<generation>`` as text, the
run a random hex id of the gateway process (a marker of an earlier run, queued in
the persistent session, must never pass for this run's) and the generation the
number of its connection.
"""

from __future__ import annotations

import re
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
_RUN = re.compile(r"[0-9a-f]{8,32}")


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


@dataclass(frozen=True, slots=True)
class SyncMarker:
    """Which run of a gateway, and which of its connections, sent a sync marker."""

    run: str
    generation: int

    def payload(self) -> bytes:
        """``<run>.<generation>``."""
        return f"{self.run}.{self.generation}".encode()


def parse_sync(payload: bytes) -> SyncMarker:
    """Validate a sync marker.

    Raises:
        ContractError: ``bad_type`` when it is not ``<hex run id>.<number>``.
    """
    run, _, number = payload.decode("ascii", "replace").partition(".")
    if not _RUN.fullmatch(run) or not number.isdigit() or len(number) > 19:
        raise ContractError("bad_type", f"sync marker is not <run>.<generation>: {payload!r:.40}")
    if int(number) > SYNC_MAX:
        raise ContractError("out_of_range", f"generation {number} is too large")
    return SyncMarker(run, int(number))
