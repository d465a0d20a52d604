"""Drop redelivered presence messages by ``(device, boot, seq)`` without ever losing one.

A duplicate is acked only once its original is stored or spooled: if the
original is still on its way to the store, the duplicate's ack waits for it,
so a crash in between leaves both unacked and the broker redelivers. Without a
``boot`` id, ``seq`` restarts after a reboot, so the device timestamp joins the key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

DeviceKey = tuple[str, str]
MessageKey = tuple[int | None, int, int | None]


class _Seen:
    __slots__ = ("done", "waiters")

    def __init__(self) -> None:
        self.done = False
        self.waiters: list[Callable[[], None]] = []


class Deduper:
    """Remembers the last ``per_device`` message keys of every device.

    Redeliveries come from the broker's in-flight window, so a short memory per
    device suffices; 64 keys cost about 16 KiB a device.
    """

    def __init__(self, per_device: int = 64) -> None:
        if per_device < 1:
            raise ValueError("per_device must be at least 1")
        self._per_device = per_device
        self._lock = threading.Lock()
        self._seen: dict[DeviceKey, OrderedDict[MessageKey, _Seen]] = {}

    def check(
        self, device: DeviceKey, key: MessageKey, ack: Callable[[], None]
    ) -> Callable[[], None] | None:
        """Register a message.

        Returns:
            For a new message, the callable to run once it is stored (it runs
            ``ack`` and releases waiting duplicates); for a duplicate, None (its
            ``ack`` runs now or once the original is stored).
        """
        with self._lock:
            keys = self._seen.setdefault(device, OrderedDict())
            seen = keys.get(key)
            if seen is not None:
                if not seen.done:
                    seen.waiters.append(ack)
                    return None
            else:
                seen = _Seen()
                keys[key] = seen
                if len(keys) > self._per_device:
                    keys.popitem(last=False)
                return lambda: self._complete(seen, ack)
        ack()
        return None

    def _complete(self, seen: _Seen, ack: Callable[[], None]) -> None:
        with self._lock:
            seen.done = True
            waiters, seen.waiters = seen.waiters, []
        ack()
        for waiter in waiters:
            waiter()
