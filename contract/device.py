"""Device messages (presence, status, telemetry): the one parser of what sensors send.

The encoder is the firmware's (``firmware/node.py``, MicroPython, which cannot
import this package); the golden files ``tests/contracts/v1/{presence,status,telemetry}.json``
pin both sides. Why so strict: the gateway is the trust boundary between cheap
sensors and the booking system, so every rejection carries a reason code and
ends up counted and dead-lettered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contract.errors import ContractError
from contract.fields import check_size, field, in_range, load_object, nullable, one_of
from contract.kinds import Kind, register
from contract.topics import MAX_PAYLOAD_BYTES, Route, parse_topic

SOURCES = ("pir", "radar", "fused")
REASONS = ("change", "heartbeat")
STATUS_ONLINE = "online"
STATUS_OFFLINE = "offline"
#: Plausible unix-ms window; outside it the unit is wrong (seconds, microseconds).
TS_MIN_MS = 1_000_000_000_000  # 2001-09-09
TS_MAX_MS = 100_000_000_000_000  # year 5138
FUTURE_TOLERANCE_MS = 60_000
MAX_AGE_MS = 7 * 24 * 3600 * 1000
INT64_MAX = 2**63 - 1
BOOT_MAX = 2**32 - 1

for _name, _direction in (
    ("presence", "device -> gateway, QoS 1"),
    ("status", "device (Last Will) -> gateway, retained"),
    ("telemetry", "device -> gateway, QoS 0"),
):
    register(Kind(_name, _direction))


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


DeviceMessage = PresenceMessage | StatusMessage | TelemetryMessage


def parse_device_message(topic: str | Route, payload: bytes, received_ms: int) -> DeviceMessage:
    """Validate a message a device sent on ``topic`` (or the route parsed from it).

    Args:
        topic: the topic, or its route (kind ``presence``, ``status`` or ``telemetry``).
        payload: the raw payload.
        received_ms: receive time in unix ms (used for clock correction).

    Raises:
        ContractError: with the reason code of the first broken rule.
    """
    route = parse_topic(topic) if isinstance(topic, str) else topic
    if len(payload) > MAX_PAYLOAD_BYTES:
        check_size(payload)
    site, device_id = route.site or "", route.device_id or ""
    if route.kind == "presence":  # by far the most common: first
        return _parse_presence(site, device_id, load_object(payload), received_ms)
    if route.kind == "status":
        return StatusMessage(site, device_id, parse_online(payload), received_ms)
    if route.kind == "telemetry":
        return _parse_telemetry(site, device_id, load_object(payload), received_ms)
    raise ContractError("bad_topic", f"{route.kind!r} is not a message a device sends")


def parse_online(payload: bytes) -> bool:
    """The online/offline word of a device's or a gateway's status.

    Raises:
        ContractError: ``bad_status`` for anything else.
    """
    if payload == _ONLINE:
        return True
    if payload == _OFFLINE:
        return False
    raise ContractError("bad_status", f"status must be online or offline, got {payload!r:.40}")


def encode_online(online: bool) -> bytes:
    """The status payload: ``online`` or ``offline``."""
    return _ONLINE if online else _OFFLINE


_ONLINE = STATUS_ONLINE.encode()
_OFFLINE = STATUS_OFFLINE.encode()
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
    seq = field(data, "seq", int)
    in_range("seq", seq, 0, INT64_MAX)
    boot = field(data, "boot", int, optional=True)
    if boot is not None:
        in_range("boot", boot, 0, BOOT_MAX)
    if "ts" not in data:
        raise ContractError("missing_field", "'ts' is missing (send null when the clock is unset)")
    device_ts = field(data, "ts", int, optional=True)
    if device_ts is not None:
        in_range("ts", device_ts, TS_MIN_MS, TS_MAX_MS)
    occupied = field(data, "occupied", bool)
    source = field(data, "source", str)
    one_of("source", source, SOURCES)
    confidence = field(data, "confidence", float, optional=True)
    if confidence is not None:
        in_range("confidence", confidence, 0.0, 1.0)
    reason = field(data, "reason", str, optional=True)
    if reason is not None:
        one_of("reason", reason, REASONS)
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


def _parse_telemetry(
    site: str, device_id: str, data: dict[str, Any], received_ms: int
) -> TelemetryMessage:
    uptime_s = field(data, "uptime_s", int)
    in_range("uptime_s", uptime_s, 0, INT64_MAX)
    # null = unknown (no Wi-Fi link, no heap figure); never read as 0.
    rssi = nullable(data, "rssi", int)
    if rssi is not None:
        in_range("rssi", rssi, -200, 50)
    heap_free = nullable(data, "heap_free", int)
    if heap_free is not None:
        in_range("heap_free", heap_free, 0, INT64_MAX)
    fw = field(data, "fw", str)
    battery_v = field(data, "battery_v", float, optional=True)
    if battery_v is not None:
        in_range("battery_v", battery_v, 0.0, 100.0)
        battery_v = float(battery_v)
    return TelemetryMessage(site, device_id, uptime_s, rssi, heap_free, fw, battery_v, received_ms)
