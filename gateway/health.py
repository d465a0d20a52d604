"""Sensor health per device, published retained on ``werkplek/v1/<site>/_health/<device_id>``.

Built from what devices send anyway (presence, status, telemetry) and from
rejections on their topics: last seen, online, RSSI, battery, firmware, uptime,
message rate, error count. No I/O here; the gateway publishes what
:meth:`HealthTracker.due` returns, at most once per interval per device.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contract.device import PresenceMessage, StatusMessage, TelemetryMessage
from contract.health import HealthRecord
from gateway.live import stale_limit_ms
from gateway.messages import Message

DeviceKey = tuple[str, str]
_WINDOW_MS = 60_000


@dataclass(slots=True)
class DeviceHealth:
    """What the gateway knows about one device's health."""

    site: str
    device_id: str
    last_seen_ms: int | None = None
    online: bool | None = None
    space_id: str | None = None
    rssi: int | None = None
    battery_v: float | None = None
    fw: str | None = None
    uptime_s: int | None = None
    heap_free: int | None = None
    messages: int = 0
    errors: int = 0
    last_error: str | None = None
    clock_corrected: int = 0
    stale_after_s: float = 180.0
    window_start_ms: int = 0
    window_count: int = 0
    msg_per_min: int = 0
    dirty: bool = field(default=True)

    def record(self) -> HealthRecord:
        """The record as published (contract v1)."""
        return HealthRecord(
            site=self.site,
            device_id=self.device_id,
            space_id=self.space_id,
            last_seen=self.last_seen_ms,
            online=self.online,
            rssi=self.rssi,
            battery_v=self.battery_v,
            fw=self.fw,
            uptime_s=self.uptime_s,
            heap_free=self.heap_free,
            msg_per_min=self.msg_per_min,
            messages=self.messages,
            errors=self.errors,
            last_error=self.last_error,
            stale_after_s=self.stale_after_s,
            clock_corrected=self.clock_corrected,
        )

    def payload(self) -> bytes:
        """The retained JSON payload."""
        return self.record().payload()


class HealthTracker:
    """Health records of every device seen, and which are due for publishing."""

    def __init__(self, interval_ms: int, stale_after_ms: int = 180_000) -> None:
        self._interval_ms = interval_ms
        self._stale_after_ms = stale_after_ms
        self._devices: dict[DeviceKey, DeviceHealth] = {}
        self._next_due_ms = 0

    def get(self, site: str, device_id: str) -> DeviceHealth:
        """The record of a device, created on first sight."""
        key = (site, device_id)
        record = self._devices.get(key)
        if record is None:
            record = DeviceHealth(site, device_id, stale_after_s=self._stale_after_ms / 1000)
            self._devices[key] = record
        return record

    def seen(self, site: str, device_id: str, now_ms: int) -> DeviceHealth:
        """Count one valid message from a device and return its record."""
        record = self.get(site, device_id)
        record.last_seen_ms = now_ms
        record.messages += 1
        self._count(record, now_ms)
        return record

    def apply(self, msg: Message) -> None:
        """Update the record of the device a valid message is about."""
        if isinstance(msg, PresenceMessage):
            record = self.seen(msg.site, msg.device_id, msg.received_ms)
            record.online = True  # a device that publishes is connected
            record.clock_corrected += int(msg.clock_corrected)
        elif isinstance(msg, TelemetryMessage):
            record = self.seen(msg.site, msg.device_id, msg.received_ms)
            record.online = True  # as for presence: the contract says "true after a message"
            record.rssi, record.battery_v, record.fw = msg.rssi, msg.battery_v, msg.fw
            record.uptime_s, record.heap_free = msg.uptime_s, msg.heap_free
        elif isinstance(msg, StatusMessage):
            record = self.get(msg.site, msg.device_id)
            record.online, record.dirty = msg.online, True
        else:
            record = self.get(msg.site, msg.device_id)
            record.space_id = msg.assignment.space_id if msg.assignment else None
            record.stale_after_s = stale_limit_ms(self._stale_after_ms, msg.assignment) / 1000
            record.dirty = True

    def error(self, site: str, device_id: str, reason: str, now_ms: int) -> None:
        """Count one rejected message on a device's topic."""
        record = self.get(site, device_id)
        record.errors += 1
        record.last_error = reason
        self._count(record, now_ms)

    def _count(self, record: DeviceHealth, now_ms: int) -> None:
        if now_ms - record.window_start_ms >= _WINDOW_MS:
            # The rate is the count of the last complete minute (0 after a silent minute).
            complete = now_ms - record.window_start_ms < 2 * _WINDOW_MS
            record.msg_per_min = record.window_count if complete else 0
            record.window_start_ms = now_ms
            record.window_count = 0
        record.window_count += 1
        record.dirty = True

    def has(self, site: str, device_id: str) -> bool:
        """True when the device has a record (it sent something or is in the registry)."""
        return (site, device_id) in self._devices

    def forget(self, site: str, device_id: str) -> None:
        """Drop a device's record (it left the registry); a later message starts a new one."""
        self._devices.pop((site, device_id), None)

    def records(self) -> list[DeviceHealth]:
        """Every record."""
        return list(self._devices.values())

    def due(self, now_ms: int) -> list[DeviceHealth]:
        """Records changed since they were last returned, at most once per interval."""
        if now_ms < self._next_due_ms:
            return []
        self._next_due_ms = now_ms + self._interval_ms
        out = [r for r in self._devices.values() if r.dirty]
        for record in out:
            record.dirty = False
        return out
