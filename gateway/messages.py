"""Parse and validate contract v1 messages; anything malformed raises InvalidMessage.

Why so strict: the gateway is the trust boundary between cheap sensors and the
booking system, so every rejection carries one of the reason codes from
``tests/contracts/v1/invalid.json`` and ends up counted and dead-lettered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import contract
from gateway.errors import InvalidMessage

SOURCES = ("pir", "radar", "fused")
REASONS = ("change", "heartbeat")
SPACE_KINDS = ("desk", "focus_room", "meeting_room")
#: Plausible unix-ms window; outside it the unit is wrong (seconds, microseconds).
TS_MIN_MS = 1_000_000_000_000  # 2001-09-09
TS_MAX_MS = 100_000_000_000_000  # year 5138
FUTURE_TOLERANCE_MS = 60_000
MAX_AGE_MS = 7 * 24 * 3600 * 1000
INT64_MAX = 2**63 - 1
BOOT_MAX = 2**32 - 1


@dataclass(frozen=True, slots=True)
class PresenceMessage:
    """One presence reading; ``ts`` is the corrected time used everywhere downstream."""

    site: str
    device_id: str
    seq: int
    boot: int | None
    ts: int
    device_ts: int | None
    occupied: bool
    source: str
    confidence: float | None
    reason: str | None
    clock_corrected: bool
    received_ms: int


@dataclass(frozen=True, slots=True)
class StatusMessage:
    """A device's retained online/offline status (``offline`` is its Last Will)."""

    site: str
    device_id: str
    online: bool
    received_ms: int


@dataclass(frozen=True, slots=True)
class TelemetryMessage:
    """Device health figures."""

    site: str
    device_id: str
    uptime_s: int
    rssi: int | None
    heap_free: int | None
    fw: str
    battery_v: float | None
    received_ms: int


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


@dataclass(frozen=True, slots=True)
class RegistryMessage:
    """A registry update; ``assignment`` None means the device is unassigned."""

    site: str
    device_id: str
    assignment: Assignment | None
    received_ms: int


Message = PresenceMessage | StatusMessage | TelemetryMessage | RegistryMessage


def parse_message(topic: str, payload: bytes, received_ms: int) -> Message:
    """Validate one inbound message.

    Args:
        topic: the MQTT topic it arrived on.
        payload: the raw payload.
        received_ms: gateway receive time in unix ms (used for clock correction).

    Raises:
        InvalidMessage: with the reason code of the first broken rule.
    """
    parsed = _TOPICS.get(topic)
    if parsed is None:
        parts = topic.split("/")
        if len(parts) == 5 and parts[3] == "_registry":
            try:
                site, device_id = contract.parse_registry_topic(topic)
            except contract.TopicError as exc:
                raise InvalidMessage("bad_topic", str(exc)) from None
            return _parse_registry(site, device_id, payload, received_ms)
        try:
            parsed = contract.parse_device_topic(topic)
        except contract.TopicError as exc:
            raise InvalidMessage("bad_topic", str(exc)) from None
        if len(_TOPICS) >= _TOPIC_CACHE_SIZE:
            _TOPICS.clear()  # a flood of odd device ids cannot grow it without bound
        _TOPICS[topic] = parsed
    if len(payload) > contract.MAX_PAYLOAD_BYTES:
        raise InvalidMessage("too_large", f"{len(payload)} bytes > {contract.MAX_PAYLOAD_BYTES}")
    site, device_id = parsed.site, parsed.device_id
    if parsed.kind == "status":
        return _parse_status(site, device_id, payload, received_ms)
    if parsed.kind == "presence":
        return _parse_presence(site, device_id, _load_object(payload), received_ms)
    if parsed.kind == "telemetry":
        return _parse_telemetry(site, device_id, _load_object(payload), received_ms)
    raise InvalidMessage("bad_topic", f"the gateway does not consume {parsed.kind!r} topics")


#: Device topics already validated (a fleet has a few thousand): the regexes run once each.
_TOPICS: dict[str, contract.DeviceTopic] = {}
_TOPIC_CACHE_SIZE = 100_000


def _load_object(payload: bytes) -> dict[str, Any]:
    try:
        data = _DECODER.decode(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidMessage("bad_json", f"payload is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidMessage("not_object", f"payload is a JSON {type(data).__name__}")
    version = _field(data, "v", int)
    if version != contract.VERSION:
        raise InvalidMessage("bad_version", f"payload version {version}, expected 1")
    return data


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


#: One decoder for all messages (json.loads with options builds one per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _field(data: dict[str, Any], name: str, kind: type, *, optional: bool = False) -> Any:
    """Return ``data[name]`` if it has type ``kind`` (bool is never an int here)."""
    if name not in data or (optional and data[name] is None):
        if optional:
            return None
        raise InvalidMessage("missing_field", f"{name!r} is missing")
    value = data[name]
    allowed: tuple[type, ...] = (int, float) if kind is float else (kind,)
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, allowed):
        raise InvalidMessage("bad_type", f"{name!r} must be {kind.__name__}, got {value!r:.40}")
    return value


def _optional_key(data: dict[str, Any], name: str, kind: type) -> Any:
    """Return ``data[name]`` of type ``kind`` or None; the key itself is required."""
    if name not in data:
        raise InvalidMessage("missing_field", f"{name!r} is missing (send null when unknown)")
    return _field(data, name, kind, optional=True)


def _in_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise InvalidMessage("out_of_range", f"{name!r}={value!r} outside [{low}, {high}]")


def _one_of(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InvalidMessage("out_of_range", f"{name!r}={value!r:.40} not one of {choices}")


_MISSING: Any = object()


def _parse_presence(
    site: str, device_id: str, data: dict[str, Any], received_ms: int
) -> PresenceMessage:
    """Validate a presence payload: one pass of exact type checks for the usual message.

    Anything the quick pass does not accept goes through :func:`_check_presence`,
    which applies the same rules one by one and names the first broken one.
    """
    seq, boot, ts = data.get("seq"), data.get("boot"), data.get("ts", _MISSING)
    occupied, source = data.get("occupied"), data.get("source")
    confidence, reason = data.get("confidence"), data.get("reason")
    if not (
        type(seq) is int  # exact types: JSON true is a bool, never an int here
        and 0 <= seq <= INT64_MAX
        and (boot is None or (type(boot) is int and 0 <= boot <= BOOT_MAX))
        and (ts is None or (type(ts) is int and TS_MIN_MS <= ts <= TS_MAX_MS))
        and type(occupied) is bool
        and type(source) is str
        and source in SOURCES
        and (confidence is None or (type(confidence) in (int, float) and 0 <= confidence <= 1))
        and (reason is None or (type(reason) is str and reason in REASONS))
    ):
        return _check_presence(site, device_id, data, received_ms)
    corrected_ts, corrected = correct_clock(ts, received_ms)
    return PresenceMessage(
        site,
        device_id,
        seq,
        boot,
        corrected_ts,
        ts,
        occupied,
        source,
        None if confidence is None else float(confidence),
        reason,
        corrected,
        received_ms,
    )


def _check_presence(
    site: str, device_id: str, data: dict[str, Any], received_ms: int
) -> PresenceMessage:
    seq = _field(data, "seq", int)
    _in_range("seq", seq, 0, INT64_MAX)
    boot = _field(data, "boot", int, optional=True)
    if boot is not None:
        _in_range("boot", boot, 0, BOOT_MAX)
    if "ts" not in data:
        raise InvalidMessage("missing_field", "'ts' is missing (send null when the clock is unset)")
    device_ts = _field(data, "ts", int, optional=True)
    if device_ts is not None:
        _in_range("ts", device_ts, TS_MIN_MS, TS_MAX_MS)
    occupied = _field(data, "occupied", bool)
    source = _field(data, "source", str)
    _one_of("source", source, SOURCES)
    confidence = _field(data, "confidence", float, optional=True)
    if confidence is not None:
        _in_range("confidence", confidence, 0.0, 1.0)
    reason = _field(data, "reason", str, optional=True)
    if reason is not None:
        _one_of("reason", reason, REASONS)
    ts, corrected = correct_clock(device_ts, received_ms)
    return PresenceMessage(
        site=site,
        device_id=device_id,
        seq=seq,
        boot=boot,
        ts=ts,
        device_ts=device_ts,
        occupied=occupied,
        source=source,
        confidence=None if confidence is None else float(confidence),
        reason=reason,
        clock_corrected=corrected,
        received_ms=received_ms,
    )


def correct_clock(device_ts: int | None, received_ms: int) -> tuple[int, bool]:
    """Return ``(ts, corrected)``: the receive time replaces an unset or implausible clock."""
    if device_ts is None:
        return received_ms, True
    if device_ts > received_ms + FUTURE_TOLERANCE_MS or device_ts < received_ms - MAX_AGE_MS:
        return received_ms, True
    return device_ts, False


def _parse_status(site: str, device_id: str, payload: bytes, received_ms: int) -> StatusMessage:
    if payload == contract.STATUS_ONLINE.encode():
        return StatusMessage(site, device_id, True, received_ms)
    if payload == contract.STATUS_OFFLINE.encode():
        return StatusMessage(site, device_id, False, received_ms)
    raise InvalidMessage("bad_status", f"status must be online or offline, got {payload!r:.40}")


def _parse_telemetry(
    site: str, device_id: str, data: dict[str, Any], received_ms: int
) -> TelemetryMessage:
    uptime_s = _field(data, "uptime_s", int)
    _in_range("uptime_s", uptime_s, 0, INT64_MAX)
    # null = unknown (no Wi-Fi link, no heap figure); never read as 0.
    rssi = _optional_key(data, "rssi", int)
    if rssi is not None:
        _in_range("rssi", rssi, -200, 50)
    heap_free = _optional_key(data, "heap_free", int)
    if heap_free is not None:
        _in_range("heap_free", heap_free, 0, INT64_MAX)
    fw = _field(data, "fw", str)
    battery_v = _field(data, "battery_v", float, optional=True)
    if battery_v is not None:
        _in_range("battery_v", battery_v, 0.0, 100.0)
        battery_v = float(battery_v)
    return TelemetryMessage(site, device_id, uptime_s, rssi, heap_free, fw, battery_v, received_ms)


def _parse_registry(site: str, device_id: str, payload: bytes, received_ms: int) -> RegistryMessage:
    if payload == b"":
        return RegistryMessage(site, device_id, None, received_ms)
    if len(payload) > contract.MAX_PAYLOAD_BYTES:
        raise InvalidMessage("too_large", f"{len(payload)} bytes > {contract.MAX_PAYLOAD_BYTES}")
    data = _load_object(payload)
    if _field(data, "device_id", str) != device_id or _field(data, "site", str) != site:
        raise InvalidMessage("out_of_range", "device_id/site in the payload differ from the topic")
    space_id = _field(data, "space_id", str)
    if not contract.is_valid_space_id(space_id):
        raise InvalidMessage("out_of_range", f"invalid space_id {space_id!r:.70}")
    kind = _field(data, "kind", str)
    _one_of("kind", kind, SPACE_KINDS)
    floor = _field(data, "floor", str)
    if not contract.is_valid_space_id(floor):
        raise InvalidMessage("out_of_range", f"invalid floor {floor!r:.70}")
    zone = _field(data, "zone", str, optional=True)
    heartbeat_s = _field(data, "heartbeat_s", int)
    _in_range("heartbeat_s", heartbeat_s, 1, 7 * 24 * 3600)
    assignment = Assignment(site, device_id, space_id, kind, floor, zone, heartbeat_s)
    return RegistryMessage(site, device_id, assignment, received_ms)
