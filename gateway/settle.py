"""The registry after a (re)connect: remembered across restarts, awaited before storing.

Why (issue 14): after a gateway restart the broker hands over the presence
queued in the persistent session right after CONNACK, and the retained
``_registry`` messages only after the SUBSCRIBEs; presence from a device the
gateway did not know yet was stored without its space tags. Two measures:

- the last registry is kept in the state dir (``registry-<gateway_id>.json``, in
  the contract's own registry payloads) and loaded at start, so a restart begins
  with the registry it ended with;
- while the registry is settling (from a connect until the gateway's sync marker
  comes back, which the broker sends after the retained messages of the
  subscriptions, or until ``settle_s`` ran out) messages of devices the registry
  does not know are held, not stored. The device's registry record releases
  them (stored tagged); the end of settling releases the rest (stored untagged,
  as before). Nothing is acked before it is stored, so nothing is lost.

Entries loaded from the file that the broker's retained registry does not confirm
by the first sync marker are dropped: the device was removed meanwhile.
Worker thread only, no locks.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract.errors import ContractError
from contract.registry import Assignment, RegistryMessage, encode_registry, parse_registry
from contract.topics import VERSION, Route

log = logging.getLogger(__name__)

DeviceKey = tuple[str, str]
#: Held messages at most; beyond it a new unknown device is stored at once (untagged,
#: as before the registry settled) so a flood of unknown ids cannot grow memory.
MAX_HELD = 100_000


@dataclass(slots=True)
class Held:
    """A message waiting for its device's registry record (``inbound`` is acked once stored)."""

    inbound: Any
    msg: Any


class RegistrySettle:
    """Held messages of unknown devices and the remembered registry of one gateway."""

    def __init__(self, path: Path, settle_s: float, clock: Callable[[], float] = time.monotonic):
        self.path = path
        self.settle_s = settle_s
        self._clock = clock
        self._until: float | None = None  # monotonic end of settling; None: settled
        self._held: dict[DeviceKey, list[Held]] = {}
        self._count = 0
        self._assignments: dict[DeviceKey, Assignment] = {}
        self._unconfirmed: set[DeviceKey] = set()  # loaded, not yet seen on the broker
        self._dirty = False

    @property
    def settling(self) -> bool:
        """True between a connect and the end of settling."""
        return self._until is not None

    def held(self) -> int:
        """How many messages are held now."""
        return self._count

    def load(self, now_ms: int) -> list[RegistryMessage]:
        """The registry remembered by the last run, as registry messages (empty if none)."""
        try:
            body = json.loads(self.path.read_text())
            entries = body["registry"] if body.get("v") == VERSION else []
        except FileNotFoundError:
            return []
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("registry file %s unreadable (%s); starting without it", self.path, exc)
            return []
        out = []
        for entry in entries:
            try:
                route = Route("registry", entry["site"], device_id=entry["device_id"])
                msg = parse_registry(route, json.dumps(entry).encode(), now_ms)
            except (ContractError, TypeError, KeyError) as exc:
                log.warning("registry file: entry skipped (%s)", exc)
                continue
            if msg.assignment is not None:
                out.append(msg)
                self._assignments[(msg.site, msg.device_id)] = msg.assignment
                self._unconfirmed.add((msg.site, msg.device_id))
        log.info("registry: %d assignments remembered from the last run", len(out))
        return out

    def connected(self) -> None:
        """A (re)connect: settle again; held messages stay held."""
        self._until = self._clock() + self.settle_s

    def expired(self) -> bool:
        """True when settling ran out of time without the sync marker."""
        return self._until is not None and self._clock() >= self._until

    def synced(self) -> list[RegistryMessage]:
        """The sync marker came back: settling ends; returns the removals of unconfirmed entries."""
        self._until = None
        gone = [
            RegistryMessage(site, device, None, 0) for site, device in sorted(self._unconfirmed)
        ]
        self._unconfirmed.clear()
        if gone:
            log.info("registry: %d remembered devices are no longer registered", len(gone))
        return gone

    def timed_out(self) -> None:
        """Settling ran out: end it, keeping remembered entries (no evidence against them)."""
        self._until = None
        log.warning("registry: no sync marker within %.1f s; storing held messages", self.settle_s)

    def hold(self, device: DeviceKey, known: bool, inbound: Any, msg: Any) -> bool:
        """Hold ``msg`` when its device is unknown while settling, or has messages held.

        A device with messages held always waits (its messages stay in order); a
        new one only while fewer than :data:`MAX_HELD` messages wait.
        """
        items = self._held.get(device)
        if items is None and (known or self._until is None or self._count >= MAX_HELD):
            return False
        if items is None:
            items = self._held[device] = []
        items.append(Held(inbound, msg))
        self._count += 1
        return True

    def release(self, device: DeviceKey) -> list[Held]:
        """The held messages of one device (its registry record arrived)."""
        items = self._held.pop(device, [])
        self._count -= len(items)
        return items

    def release_all(self) -> list[Held]:
        """Every held message, per device in arrival order."""
        out = [item for items in self._held.values() for item in items]
        self._held.clear()
        self._count = 0
        return out

    def note(self, msg: RegistryMessage) -> None:
        """Remember a registry message for the file."""
        key = (msg.site, msg.device_id)
        self._unconfirmed.discard(key)
        if msg.assignment is None:
            self._dirty |= self._assignments.pop(key, None) is not None
        elif self._assignments.get(key) != msg.assignment:
            self._assignments[key] = msg.assignment
            self._dirty = True

    def save(self) -> None:
        """Write the file if the registry changed since the last write (atomically)."""
        if not self._dirty:
            return
        self._dirty = False
        entries = [json.loads(encode_registry(a)) for _key, a in sorted(self._assignments.items())]
        tmp = self.path.with_suffix(".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"v": VERSION, "registry": entries}))
            os.replace(tmp, self.path)
        except OSError as exc:
            self._dirty = True
            log.error("registry file %s not written: %s", self.path, exc)
