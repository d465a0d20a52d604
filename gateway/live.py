"""Live per-space state derived from presence, status and registry messages (no I/O).

Rules (contract v1): a space is ``occupied`` if any fresh online device says so,
``vacant`` if at least one fresh online device exists and none is occupied, and
otherwise ``unknown`` with reason ``offline`` (a device's Last Will), ``stale``
(silent longer than its limit, see :func:`stale_limit_ms`) or ``no_data``. A silent sensor never
shows as free. Freshness uses the gateway's receive time, ordering uses the
corrected message ts, so a late duplicate cannot roll the state back.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.device import PresenceMessage, StatusMessage
from contract.registry import Assignment, RegistryMessage
from contract.space_state import SpaceState

DeviceKey = tuple[str, str]  # (site, device_id)
SpaceKey = tuple[str, str]  # (site, space_id)


def stale_limit_ms(stale_after_ms: int, assignment: Assignment | None) -> int:
    """Silence after which a device is stale: max(stale_after, 3 x its heartbeat).

    A battery node reports rarely by design; three missed heartbeats, not the
    site-wide default, mark it stale.
    """
    if assignment is None:
        return stale_after_ms
    return max(stale_after_ms, 3 * assignment.heartbeat_s * 1000)


@dataclass(slots=True)
class _Device:
    assignment: Assignment | None = None
    online: bool | None = None
    occupied: bool | None = None
    last_ts: int | None = None
    last_seen_ms: int | None = None


class LiveState:
    """Registry, per-device last readings and derived per-space states."""

    def __init__(self, stale_after_ms: int) -> None:
        if stale_after_ms <= 0:
            raise ValueError("stale_after_ms must be positive")
        self._stale_after_ms = stale_after_ms
        self._devices: dict[DeviceKey, _Device] = {}
        self._members: dict[SpaceKey, set[str]] = {}
        self._states: dict[SpaceKey, SpaceState] = {}

    def assignment(self, site: str, device_id: str) -> Assignment | None:
        """The current space assignment of a device, if any."""
        device = self._devices.get((site, device_id))
        return device.assignment if device else None

    def _device(self, site: str, device_id: str) -> _Device:
        device = self._devices.get((site, device_id))
        if device is None:  # not setdefault: that builds a _Device on every message
            device = self._devices[(site, device_id)] = _Device()
        return device

    def states(self) -> list[SpaceState]:
        """The last derived state of every known space."""
        return list(self._states.values())

    def apply_registry(self, msg: RegistryMessage, now_ms: int) -> list[SpaceState]:
        """Assign, move or unassign a device; returns the space states that changed."""
        device = self._device(msg.site, msg.device_id)
        old, new = device.assignment, msg.assignment
        device.assignment = new
        touched: list[SpaceKey] = []
        if old is not None:
            key = (old.site, old.space_id)
            self._members.get(key, set()).discard(msg.device_id)
            touched.append(key)
        if new is not None:
            key = (new.site, new.space_id)
            self._members.setdefault(key, set()).add(msg.device_id)
            if key not in touched:
                touched.append(key)
        return self._refresh(touched, now_ms, now_ms)

    def forget(self, site: str, device_id: str) -> None:
        """Drop everything known about a device that left the registry.

        Call after :meth:`apply_registry` unassigned it, so no space lists it any more;
        if it shows up again it starts from scratch (unassigned, no last reading).
        """
        self._devices.pop((site, device_id), None)

    def apply_presence(self, msg: PresenceMessage, now_ms: int) -> tuple[bool, list[SpaceState]]:
        """Record a reading; returns (applied, changed states). Older readings are not applied."""
        device = self._device(msg.site, msg.device_id)
        if device.last_ts is not None and msg.ts < device.last_ts:
            return False, []
        device.last_ts = msg.ts
        device.occupied = msg.occupied
        device.last_seen_ms = msg.received_ms
        device.online = True  # a device that publishes is connected
        return True, self._refresh_device(device, min(msg.ts, now_ms), now_ms)

    def apply_status(self, msg: StatusMessage, now_ms: int) -> list[SpaceState]:
        """Record online/offline (LWT); returns the space states that changed."""
        device = self._device(msg.site, msg.device_id)
        device.online = msg.online
        return self._refresh_device(device, now_ms, now_ms)

    def tick(self, now_ms: int) -> list[SpaceState]:
        """Re-derive every space so devices silent too long turn the space unknown."""
        return self._refresh(list(self._members), now_ms, now_ms)

    def _refresh_device(self, device: _Device, event_ms: int, now_ms: int) -> list[SpaceState]:
        if device.assignment is None:
            return []
        key = (device.assignment.site, device.assignment.space_id)
        return self._refresh([key], event_ms, now_ms)

    def _refresh(self, keys: list[SpaceKey], event_ms: int, now_ms: int) -> list[SpaceState]:
        changed: list[SpaceState] = []
        for site, space_id in keys:
            members = tuple(sorted(self._members.get((site, space_id), ())))
            state, reason = self._derive(site, members, now_ms)
            previous = self._states.get((site, space_id))
            if previous is not None and (previous.state, previous.reason, previous.devices) == (
                state,
                reason,
                members,
            ):
                continue
            since = event_ms
            if previous is not None and previous.state == state:
                since = previous.since
            current = SpaceState(site, space_id, state, since, now_ms, reason, members)
            self._states[(site, space_id)] = current
            changed.append(current)
        return changed

    def _derive(self, site: str, members: tuple[str, ...], now_ms: int) -> tuple[str, str]:
        fresh: list[bool] = []
        offline = stale = False
        for device_id in members:
            device = self._devices[(site, device_id)]
            if device.online is False:
                offline = True
            elif device.last_seen_ms is None or device.occupied is None:
                continue
            elif now_ms - device.last_seen_ms > stale_limit_ms(
                self._stale_after_ms, device.assignment
            ):
                stale = True
            else:
                fresh.append(device.occupied)
        if any(fresh):
            return "occupied", "sensor"
        if fresh:
            return "vacant", "sensor"
        if offline:
            return "unknown", "offline"
        if stale:
            return "unknown", "stale"
        return "unknown", "no_data"
