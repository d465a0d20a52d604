"""Validated in-memory store of the gateway's retained ``_health/<device_id>`` messages.

The gateway publishes one retained record per device (contract v1). The backend
keeps the last valid one per device and judges it when asked: a record says
when the device was last seen, so staleness is computed here against the clock
and the device's own limit (``stale_after_s``, which already accounts for its
heartbeat). Malformed messages are rejected with a reason code, logged and
counted, never raised: one bad publisher must not stop the others.
Not thread-safe on purpose: it is only touched from the asyncio loop.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from contract import MAX_PAYLOAD_BYTES, PREFIX, VERSION, is_valid_id, is_valid_space_id

log = logging.getLogger(__name__)

#: Subscription for the gateway's retained per-device health records.
SUB_HEALTH = f"{PREFIX}/+/_health/+"
#: Below this a battery is about to run out (a LiPo cell under load).
LOW_BATTERY_V = 3.4
#: Below this the Wi-Fi link drops messages.
WEAK_RSSI_DBM = -80
#: Most devices kept; beyond it new devices are rejected (``too_many``), not stored.
MAX_DEVICES = 100_000
#: Problem codes, most severe first, with the B1 Dutch and English text for people.
PROBLEMS: dict[str, tuple[str, str]] = {
    "offline": ("Sensor is offline", "Sensor is offline"),
    "stale": ("Sensor stuurt al een tijd niets", "Sensor has been silent too long"),
    "low_battery": ("Batterij bijna leeg", "Battery almost empty"),
    "weak_signal": ("Zwak wifi-signaal", "Weak Wi-Fi signal"),
}


class InvalidHealth(ValueError):
    """A health message broke the contract; ``reason`` is the rejection code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class HealthRecord:
    """One device's health as the gateway last published it."""

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


def _get(body: dict[str, Any], name: str, kinds: tuple[type, ...], *, nullable: bool) -> Any:
    if name not in body:
        raise InvalidHealth("missing_field", f"field {name!r} is missing")
    value = body[name]
    if value is None:
        if nullable:
            return None
        raise InvalidHealth("bad_type", f"field {name!r} must not be null")
    if isinstance(value, bool) != (bool in kinds) or not isinstance(value, kinds):
        raise InvalidHealth("bad_type", f"field {name!r} has type {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidHealth("out_of_range", f"field {name!r} is not a finite number")
    return value


def _count(body: dict[str, Any], name: str) -> int:
    value: int = _get(body, name, (int,), nullable=False)
    if value < 0:
        raise InvalidHealth("out_of_range", f"field {name!r} is negative")
    return value


def parse_health(topic: str, payload: bytes) -> HealthRecord | None:
    """Validate one message; None means an empty payload (the record was cleared).

    Raises:
        InvalidHealth: the topic or payload breaks the contract.
    """
    parts = topic.split("/")
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}" != PREFIX or parts[3] != "_health":
        raise InvalidHealth("bad_topic", "not a _health topic")
    site, device_id = parts[2], parts[4]
    if not (is_valid_id(site) and is_valid_id(device_id)):
        raise InvalidHealth("bad_topic", f"invalid site or device id in {topic!r:.120}")
    if not payload:
        return None
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise InvalidHealth("too_large", f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidHealth("bad_json", str(exc)) from None
    if not isinstance(body, dict):
        raise InvalidHealth("not_object", f"payload is a JSON {type(body).__name__}")
    if _get(body, "v", (int,), nullable=False) != VERSION:
        raise InvalidHealth("bad_version", f"version {body['v']!r} is not {VERSION}")
    for name, expected in (("site", site), ("device_id", device_id)):
        if _get(body, name, (str,), nullable=False) != expected:
            raise InvalidHealth("mismatch", f"{name} {body[name]!r:.70} differs from the topic")
    space_id = _get(body, "space_id", (str,), nullable=True)
    if space_id is not None and not is_valid_space_id(space_id):
        raise InvalidHealth("out_of_range", f"invalid space_id {space_id!r:.70}")
    last_seen = _get(body, "last_seen", (int,), nullable=True)
    rssi = _get(body, "rssi", (int,), nullable=True)
    battery = _get(body, "battery_v", (int, float), nullable=True)
    uptime = _get(body, "uptime_s", (int,), nullable=True)
    fw = _get(body, "fw", (str,), nullable=True)
    last_error = _get(body, "last_error", (str,), nullable=True)
    # Older gateways do not send their per-device limit; the backend default applies then.
    stale = None
    if "stale_after_s" in body:
        stale = _get(body, "stale_after_s", (int, float), nullable=True)
    if (last_seen is not None and last_seen < 0) or (stale is not None and stale <= 0):
        raise InvalidHealth("out_of_range", "last_seen and stale_after_s must be positive")
    return HealthRecord(
        site=site,
        device_id=device_id,
        space_id=space_id,
        last_seen=last_seen,
        online=_get(body, "online", (bool,), nullable=True),
        rssi=rssi,
        battery_v=None if battery is None else float(battery),
        fw=None if fw is None else fw[:40],
        uptime_s=uptime,
        heap_free=_get(body, "heap_free", (int,), nullable=True),
        msg_per_min=_count(body, "msg_per_min"),
        messages=_count(body, "messages"),
        errors=_count(body, "errors"),
        last_error=None if last_error is None else last_error[:40],
        stale_after_s=None if stale is None else float(stale),
    )


def problems(record: HealthRecord, now_ms: int, default_stale_s: float) -> list[str]:
    """Problem codes of a record, most severe first (see :data:`PROBLEMS`)."""
    found: list[str] = []
    if record.online is False:
        found.append("offline")
    else:
        limit_ms = (record.stale_after_s or default_stale_s) * 1000
        if record.last_seen is None or now_ms - record.last_seen > limit_ms:
            found.append("stale")
    if record.battery_v is not None and record.battery_v < LOW_BATTERY_V:
        found.append("low_battery")
    if record.rssi is not None and record.rssi < WEAK_RSSI_DBM:
        found.append("weak_signal")
    return found


class HealthStore:
    """The last valid health record per device, plus accept/reject counters."""

    def __init__(self, stale_after_s: float) -> None:
        self.stale_after_s = stale_after_s
        self.records: dict[tuple[str, str], HealthRecord] = {}
        self.accepted = 0
        self.rejected: Counter[str] = Counter()

    def on_message(self, topic: str, payload: bytes) -> None:
        """Store, replace or clear one device's record; a bad message is counted, not raised."""
        try:
            record = parse_health(topic, payload)
            if record is not None and len(self.records) >= MAX_DEVICES:
                if (record.site, record.device_id) not in self.records:
                    raise InvalidHealth("too_many", f"more than {MAX_DEVICES} devices")
        except InvalidHealth as exc:
            self.rejected[exc.reason] += 1
            log.warning("health: rejected %s: %s", topic[:200], exc)
            return
        self.accepted += 1
        parts = topic.split("/")
        if record is None:
            self.records.pop((parts[2], parts[4]), None)
        else:
            self.records[(record.site, record.device_id)] = record

    def report(self, site: str | None, now_ms: int) -> list[dict[str, Any]]:
        """Every record of ``site`` (or all sites) with its problems, sorted by device."""
        rows = []
        for key in sorted(self.records):
            record = self.records[key]
            if site is not None and record.site != site:
                continue
            found = problems(record, now_ms, self.stale_after_s)
            first = found[0] if found else None
            rows.append(
                {
                    **asdict(record),
                    "stale_after_s": record.stale_after_s or self.stale_after_s,
                    "problems": found,
                    "problem": first,
                    "problem_nl": PROBLEMS[first][0] if first else None,
                    "problem_en": PROBLEMS[first][1] if first else None,
                }
            )
        return rows
