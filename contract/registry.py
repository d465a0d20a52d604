"""The registry message: which space a device watches (backend -> gateway, retained).

Topic ``werkplek/v1/<site>/_registry/<device_id>``; an empty retained payload
means the device is unassigned (or removed). The backend encodes it
(``backend/registry_publisher.py``), the gateway parses it.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.errors import ContractError
from contract.fields import check_size, dumps, field, in_range, load_object, one_of
from contract.kinds import Kind, register
from contract.topics import VERSION, Route, expect, is_valid_space_id, registry_topic

SPACE_KINDS = ("desk", "focus_room", "meeting_room")
HEARTBEAT_MAX_S = 7 * 24 * 3600

register(Kind("registry", "backend -> gateway, retained", shape=("_registry", "{device_id}")))


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where a device sits, as published by the backend's registry."""

    site: str
    device_id: str
    space_id: str
    kind: str
    floor: str
    zone: str | None
    heartbeat_s: int

    @property
    def topic(self) -> str:
        """The retained registry topic of the device."""
        return registry_topic(self.site, self.device_id)


@dataclass(frozen=True, slots=True)
class RegistryMessage:
    """A registry update; ``assignment`` None means the device is unassigned."""

    site: str
    device_id: str
    assignment: Assignment | None
    received_ms: int


def encode_registry(assignment: Assignment | None) -> bytes:
    """The registry payload of an assignment; empty bytes mean "unassigned"."""
    if assignment is None:
        return b""
    return dumps(
        {
            "v": VERSION,
            "device_id": assignment.device_id,
            "site": assignment.site,
            "space_id": assignment.space_id,
            "kind": assignment.kind,
            "floor": assignment.floor,
            "zone": assignment.zone,
            "heartbeat_s": assignment.heartbeat_s,
        }
    )


def parse_registry(topic: str | Route, payload: bytes, received_ms: int) -> RegistryMessage:
    """Validate a registry message received on ``topic`` (or the route parsed from it).

    Raises:
        ContractError: with the reason code of the first broken rule.
    """
    route = expect(topic, "registry")
    site, device_id = route.site or "", route.device_id or ""
    if payload == b"":
        return RegistryMessage(site, device_id, None, received_ms)
    check_size(payload)
    data = load_object(payload)
    if field(data, "device_id", str) != device_id or field(data, "site", str) != site:
        raise ContractError("out_of_range", "device_id/site in the payload differ from the topic")
    space_id = field(data, "space_id", str)
    if not is_valid_space_id(space_id):
        raise ContractError("out_of_range", f"invalid space_id {space_id!r:.70}")
    kind = field(data, "kind", str)
    one_of("kind", kind, SPACE_KINDS)
    floor = field(data, "floor", str)
    if not is_valid_space_id(floor):
        raise ContractError("out_of_range", f"invalid floor {floor!r:.70}")
    zone = field(data, "zone", str, optional=True)
    heartbeat_s = field(data, "heartbeat_s", int)
    in_range("heartbeat_s", heartbeat_s, 1, HEARTBEAT_MAX_S)
    assignment = Assignment(site, device_id, space_id, kind, floor, zone, heartbeat_s)
    return RegistryMessage(site, device_id, assignment, received_ms)
