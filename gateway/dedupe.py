"""Drop redelivered presence messages by ``(device, boot, seq)`` without ever losing one.

A duplicate is acked only once its original is stored or spooled: if the
original is still on its way to the store, the duplicate's ack waits for it,
so a crash in between leaves both unacked and the broker redelivers. Without a
``boot`` id, ``seq`` restarts after a reboot, so the device timestamp joins the key.

A device that sends neither ``boot`` nor ``ts`` (both optional in the contract)
gives only ``seq``: after a reboot its first messages would carry keys still in
memory and be dropped, so its live state would lag behind what it reports. For
such a device a ``seq`` lower than its previous one starts a new epoch (see
:meth:`Deduper.follow_seq`). The price: a broker redelivery of older messages is
then stored again (history keeps at-least-once), and the live state still ends on
the newest message because redeliveries come in order.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

DeviceKey = tuple[str, str]
MessageKey = tuple[int | None, int, int | None]


class _Seen:
    """One remembered message; calling it marks it stored (see :meth:`Deduper.complete`)."""

    __slots__ = ("ack", "done", "owner", "waiters")

    def __init__(self, owner: Deduper, ack: Callable[[], None]) -> None:
        self.done = False
        self.owner = owner
        self.ack = ack
        self.waiters: list[Callable[[], None]] | None = None  # rare: no list per message

    def __call__(self) -> None:
        self.owner.complete([self])


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
        self._last_seq: dict[DeviceKey, int] = {}

    def follow_seq(self, device: DeviceKey, seq: int) -> bool:
        """Note the ``seq`` of a message without ``boot`` and ``ts``; True when it starts an epoch.

        ``seq`` restarts at 0 on every boot, and nothing else tells such a device's
        reboot apart, so a ``seq`` below the previous one forgets the device's keys
        rather than dropping its new messages as duplicates. Worker thread only,
        like :meth:`check`.
        """
        last = self._last_seq.get(device)
        self._last_seq[device] = seq
        if last is None or seq >= last:
            return False
        self._seen.pop(device, None)
        return True

    def check(
        self, device: DeviceKey, key: MessageKey, ack: Callable[[], None]
    ) -> Callable[[], None] | None:
        """Register a message.

        Call it from one thread (the gateway's worker): the key memory is that
        thread's alone, and the lock only guards an entry's ``done`` and waiters,
        which the writer thread sets, so a new message never waits for a batch
        being completed.

        Returns:
            For a new message, the callable to run once it is stored (it runs
            ``ack`` and releases waiting duplicates); for a duplicate, None (its
            ``ack`` runs now or once the original is stored).
        """
        keys = self._seen.get(device)
        if keys is None:
            keys = self._seen[device] = OrderedDict()
        seen = keys.get(key)
        if seen is None:
            seen = keys[key] = _Seen(self, ack)
            if len(keys) > self._per_device:
                keys.popitem(last=False)
            return seen
        with self._lock:
            if not seen.done:
                if seen.waiters is None:
                    seen.waiters = []
                seen.waiters.append(ack)
                return None
        ack()
        return None

    def complete(self, done: list[Callable[[], None]]) -> None:
        """Run the on-stored callables of a whole batch, taking the lock once.

        The writer thread finishes a batch of up to thousands of messages while
        the worker keeps checking new ones; one lock round per batch instead of
        per message keeps them from contending. Plain callables just run.
        """
        acks: list[Callable[[], None]] = []
        with self._lock:
            for item in done:
                if isinstance(item, _Seen) and item.owner is self:
                    item.done = True
                    acks.append(item.ack)
                    if item.waiters:
                        acks.extend(item.waiters)
                        item.waiters = None
                else:
                    acks.append(item)
        for ack in acks:
            ack()
