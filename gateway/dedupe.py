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

Memory per device is small and the same from its first message on: a message
is held as an object (with its ack, and so its payload) only until it is
stored; then its key folds into a compact record. For ``(boot, seq)`` keys
(our firmware) and seq-only epochs that is, per boot, the highest stored
``seq`` and a bitmask of the stored seqs in the window below it, for the two
most recently used boots (a redelivery from before a reboot is still caught).
Keys with a device time (no boot) go into two fixed arrays of the last
``per_device`` ``(seq, ts)`` pairs. Anything else (a seq below the window,
values out of range) goes into a small bounded dict created only then.
"""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable

DeviceKey = tuple[str, str]
MessageKey = tuple[int | None, int, int | None]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _acked() -> None:
    """Stands in for an ack that has run, so the message it closed over can go."""


class _Seen:
    """A message not stored yet; calling it marks it stored (see :meth:`Deduper.complete`)."""

    __slots__ = ("ack", "done", "owner", "waiters")

    def __init__(self, owner: Deduper, ack: Callable[[], None]) -> None:
        self.done = False
        self.owner = owner
        self.ack = ack
        self.waiters: list[Callable[[], None]] | None = None  # rare: no list per message

    def __call__(self) -> None:
        self.owner.complete([self])


class _Window:
    """The stored seqs of one boot (or epoch): the highest, and bit ``i`` for ``top - i``."""

    __slots__ = ("mask", "stream", "top")

    def __init__(self, stream: int | None, seq: int) -> None:
        self.stream = stream
        self.top = seq
        self.mask = 1

    def has(self, seq: int, width: int) -> bool:
        behind = self.top - seq
        return 0 <= behind < width and bool(self.mask >> behind & 1)

    def add(self, seq: int, width: int) -> bool:
        """Mark ``seq`` stored; False when it lies below the window (kept elsewhere then)."""
        behind = self.top - seq
        if behind < 0:
            ahead = -behind
            self.mask = ((self.mask << ahead | 1) & ((1 << width) - 1)) if ahead < width else 1
            self.top = seq
        elif behind < width:
            self.mask |= 1 << behind
        else:
            return False
        return True


class _Pairs:
    """The last ``width`` ``(seq, ts)`` keys of a device without boot, in fixed arrays."""

    __slots__ = ("at", "seqs", "tss")

    def __init__(self, width: int) -> None:
        self.seqs = array("q", [-1]) * width  # -1: an empty slot (seqs are never negative here)
        self.tss = array("q", [0]) * width
        self.at = 0

    def has(self, seq: int, ts: int) -> bool:
        tss, seqs, i = self.tss, self.seqs, -1
        try:
            while True:
                i = tss.index(ts, i + 1)
                if seqs[i] == seq:
                    return True
        except ValueError:
            return False

    def add(self, seq: int, ts: int) -> None:
        self.seqs[self.at] = seq
        self.tss[self.at] = ts
        self.at = (self.at + 1) % len(self.seqs)


class _Device:
    """What the deduper keeps of one device; every part is created only when needed."""

    __slots__ = ("extra", "pairs", "pending", "prev", "window")

    def __init__(self) -> None:
        self.pending: dict[MessageKey, _Seen] | None = None  # not stored yet, usually one
        self.window: _Window | None = None  # the boot (or epoch) stored into last
        self.prev: _Window | None = None  # the one before
        self.pairs: _Pairs | None = None
        self.extra: OrderedDict[MessageKey, None] | None = None


def _pairs_fit(boot: int | None, seq: int, ts: int | None) -> bool:
    return (
        boot is None
        and ts is not None
        and 0 <= seq <= _INT64_MAX
        and _INT64_MIN <= ts <= _INT64_MAX
    )


class Deduper:
    """Remembers the recent message keys of every device (``per_device`` seqs a boot).

    Redeliveries come from the broker's in-flight window, so a short memory per
    device suffices; a device costs a few hundred bytes (see the module docstring).
    """

    def __init__(self, per_device: int = 64) -> None:
        if per_device < 1:
            raise ValueError("per_device must be at least 1")
        self._per_device = per_device
        self._lock = threading.Lock()
        self._devices: dict[DeviceKey, _Device] = {}
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
        self._devices.pop(device, None)
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
        dev = self._devices.get(device)
        if dev is None:
            dev = self._devices[device] = _Device()
        pending = dev.pending
        if pending is not None:
            pending = self._fold(dev, pending)
        if pending is not None:
            seen = pending.get(key)
            if seen is not None:
                with self._lock:
                    if not seen.done:
                        if seen.waiters is None:
                            seen.waiters = []
                        seen.waiters.append(ack)
                        return None
                ack()
                return None
        if self._has(dev, key):
            ack()
            return None
        seen = _Seen(self, ack)
        if pending is None:
            pending = dev.pending = {}
        pending[key] = seen
        if len(pending) > self._per_device:  # never stored (yet): forget the oldest
            oldest = next(iter(pending))
            if pending.pop(oldest).done:
                self._remember(dev, oldest)
        return seen

    def complete(self, done: list[Callable[[], None]]) -> None:
        """Run the on-stored callables of a whole batch, taking the lock once.

        The writer thread finishes a batch of up to thousands of messages while
        the worker keeps checking new ones; one lock round per batch instead of
        per message keeps them from contending. Plain callables just run. An
        entry's ack runs once; it is dropped then, so the message can be freed
        before the worker folds the key into the device's compact record.
        """
        acks: list[Callable[[], None]] = []
        with self._lock:
            for item in done:
                if isinstance(item, _Seen) and item.owner is self:
                    if item.done:
                        continue
                    item.done = True
                    acks.append(item.ack)
                    item.ack = _acked
                    if item.waiters:
                        acks.extend(item.waiters)
                        item.waiters = None
                else:
                    acks.append(item)
        for ack in acks:
            ack()

    def _fold(
        self, dev: _Device, pending: dict[MessageKey, _Seen]
    ) -> dict[MessageKey, _Seen] | None:
        """Move the device's stored entries into its compact record; the rest stay pending.

        ``done`` is read without the lock: it only ever turns True, and an entry
        seen as not done yet simply stays pending until the next message.
        """
        stored = [key for key, seen in pending.items() if seen.done]
        for key in stored:
            del pending[key]
            self._remember(dev, key)
        if pending:
            return pending
        dev.pending = None
        return None

    def _has(self, dev: _Device, key: MessageKey) -> bool:
        boot, seq, ts = key
        width = self._per_device
        if ts is None:
            for window in (dev.window, dev.prev):
                if window is not None and window.stream == boot and window.has(seq, width):
                    return True
        elif _pairs_fit(boot, seq, ts):
            return dev.pairs is not None and dev.pairs.has(seq, ts)
        return dev.extra is not None and key in dev.extra

    def _remember(self, dev: _Device, key: MessageKey) -> None:
        boot, seq, ts = key
        width = self._per_device
        if ts is None:
            window = dev.window
            if window is None or window.stream != boot:
                prev = dev.prev
                if prev is not None and prev.stream == boot:
                    dev.window, dev.prev = prev, window
                    window = prev
                else:
                    dev.window, dev.prev = _Window(boot, seq), window
                    return
            if window.add(seq, width):
                return
        elif _pairs_fit(boot, seq, ts):
            if dev.pairs is None:
                dev.pairs = _Pairs(width)
            dev.pairs.add(seq, ts)
            return
        extra = dev.extra
        if extra is None:
            extra = dev.extra = OrderedDict()
        extra[key] = None
        if len(extra) > width:
            extra.popitem(last=False)
