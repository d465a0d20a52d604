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

import logging
from collections import Counter
from dataclasses import asdict
from typing import Any

from contract.errors import ContractError
from contract.health import HealthRecord, parse_health
from contract.topics import SUB_HEALTH, expect

log = logging.getLogger(__name__)

__all__ = ["SUB_HEALTH", "HealthRecord", "HealthStore", "parse_health", "problems"]

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
            route = expect(topic, "health")
            record = parse_health(route, payload)
            if record is not None and len(self.records) >= MAX_DEVICES:
                if (record.site, record.device_id) not in self.records:
                    raise ContractError("too_many", f"more than {MAX_DEVICES} devices")
        except ContractError as exc:
            self.rejected[exc.reason] += 1
            log.warning("health: rejected %s: %s", topic[:200], exc)
            return
        self.accepted += 1
        if record is None:
            self.records.pop((route.site or "", route.device_id or ""), None)
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
