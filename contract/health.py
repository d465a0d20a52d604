"""A device's health record (gateway -> backend, retained).

Topic ``werkplek/v1/<site>/_health/<device_id>``; an empty retained payload
clears the record (the device left the registry). The gateway builds and
encodes it (``gateway/health.py``), the backend parses it (``backend/health/service.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from contract.errors import ContractError
from contract.fields import check_size, dumps, field, load_object, same_as_topic
from contract.kinds import Kind, register
from contract.topics import VERSION, Route, expect, health_topic, is_valid_space_id

#: Longest firmware version and error code kept from a record.
TEXT_MAX = 40

register(Kind("health", "gateway -> backend, retained", shape=("_health", "{device_id}")))


@dataclass(frozen=True, slots=True)
class HealthRecord:
    """One device's health as the gateway publishes it."""

    site: str
    device_id: str
    space_id: str | None
    last_seen: int | None
    online: bool | None
    rssi: int | None
    battery_v: float | None
    fw: str | None
    uptime_s: int | None
    heap_free: int | None
    msg_per_min: int
    messages: int
    errors: int
    last_error: str | None
    stale_after_s: float | None
    clock_corrected: int = 0

    @property
    def topic(self) -> str:
        """The retained topic of this record."""
        return health_topic(self.site, self.device_id)

    def payload(self) -> bytes:
        """The retained JSON payload."""
        return dumps(
            {
                "v": VERSION,
                "site": self.site,
                "device_id": self.device_id,
                "space_id": self.space_id,
                "last_seen": self.last_seen,
                "online": self.online,
                "rssi": self.rssi,
                "battery_v": self.battery_v,
                "fw": self.fw,
                "uptime_s": self.uptime_s,
                "heap_free": self.heap_free,
                "msg_per_min": self.msg_per_min,
                "messages": self.messages,
                "errors": self.errors,
                "last_error": self.last_error,
                "clock_corrected": self.clock_corrected,
                "stale_after_s": self.stale_after_s,
            }
        )


def _get(body: dict[str, Any], name: str, kind: type, *, nullable: bool) -> Any:
    if name not in body:
        raise ContractError("missing_field", f"field {name!r} is missing")
    if body[name] is None and not nullable:
        raise ContractError("bad_type", f"field {name!r} must not be null")
    value = field(body, name, kind, optional=True)
    if isinstance(value, float) and not math.isfinite(value):
        raise ContractError("out_of_range", f"field {name!r} is not a finite number")
    return value


def _count(body: dict[str, Any], name: str) -> int:
    value: int = _get(body, name, int, nullable=False)
    if value < 0:
        raise ContractError("out_of_range", f"field {name!r} is negative")
    return value


def parse_health(topic: str | Route, payload: bytes) -> HealthRecord | None:
    """Validate one health record; None means an empty payload (the record was cleared).

    Raises:
        ContractError: the topic or the payload breaks the contract.
    """
    route = expect(topic, "health")
    site, device_id = route.site or "", route.device_id or ""
    if not payload:
        return None
    check_size(payload)
    body = load_object(payload)
    same_as_topic(body, "site", site, "mismatch")
    same_as_topic(body, "device_id", device_id, "mismatch")
    space_id = _get(body, "space_id", str, nullable=True)
    if space_id is not None and not is_valid_space_id(space_id):
        raise ContractError("out_of_range", f"invalid space_id {space_id!r:.70}")
    last_seen = _get(body, "last_seen", int, nullable=True)
    rssi = _get(body, "rssi", int, nullable=True)
    battery = _get(body, "battery_v", float, nullable=True)
    uptime = _get(body, "uptime_s", int, nullable=True)
    fw = _get(body, "fw", str, nullable=True)
    last_error = _get(body, "last_error", str, nullable=True)
    # Older gateways send neither their per-device limit nor the clock count.
    stale = None
    if "stale_after_s" in body:
        stale = _get(body, "stale_after_s", float, nullable=True)
    if (last_seen is not None and last_seen < 0) or (stale is not None and stale <= 0):
        raise ContractError("out_of_range", "last_seen and stale_after_s must be positive")
    corrected = _count(body, "clock_corrected") if "clock_corrected" in body else 0
    return HealthRecord(
        site=site,
        device_id=device_id,
        space_id=space_id,
        last_seen=last_seen,
        online=_get(body, "online", bool, nullable=True),
        rssi=rssi,
        battery_v=None if battery is None else float(battery),
        fw=None if fw is None else fw[:TEXT_MAX],
        uptime_s=uptime,
        heap_free=_get(body, "heap_free", int, nullable=True),
        msg_per_min=_count(body, "msg_per_min"),
        messages=_count(body, "messages"),
        errors=_count(body, "errors"),
        last_error=None if last_error is None else last_error[:TEXT_MAX],
        stale_after_s=None if stale is None else float(stale),
        clock_corrected=corrected,
    )
