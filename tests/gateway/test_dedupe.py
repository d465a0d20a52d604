"""Unit tests of the deduper's compact memory: windows per boot, pending entries, fallbacks."""

import gc
import tracemalloc
import weakref
from functools import partial

from gateway.dedupe import Deduper

DEV = ("hq", "d-1")


class Inbound:
    """Stands in for the gateway's inbound MQTT message that an ack closes over."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload


def _ack(inbound: Inbound) -> None:
    del inbound


def stored(dedupe, key, device=DEV):
    """Check a new message and mark it stored at once."""
    on_stored = dedupe.check(device, key, lambda: None)
    assert on_stored is not None, key
    on_stored()


def is_duplicate(dedupe, key, device=DEV):
    acks = []
    result = dedupe.check(device, key, lambda: acks.append(key))
    if result is None:
        assert acks == [key]  # a copy of a stored message is acked at once
        return True
    result()
    return False


def test_redeliveries_within_the_window_are_caught_after_many_messages():
    dedupe = Deduper()
    for seq in range(500):
        stored(dedupe, (7, seq, None))
    assert all(is_duplicate(dedupe, (7, seq, None)) for seq in range(436, 500))
    assert not is_duplicate(dedupe, (7, 500, None))


def test_messages_out_of_order_are_new_once_and_duplicates_after():
    dedupe = Deduper()
    for seq in (10, 12, 11, 5, 40):
        stored(dedupe, (7, seq, None))
    assert not is_duplicate(dedupe, (7, 6, None))
    for seq in (5, 6, 10, 11, 12, 40):
        assert is_duplicate(dedupe, (7, seq, None)), seq
    stored(dedupe, (7, 200, None))  # 40 falls below the window of 64...
    stored(dedupe, (7, 3, None))  # ...and 3 was stored below it: kept apart
    assert is_duplicate(dedupe, (7, 3, None))
    assert is_duplicate(dedupe, (7, 200, None))


def test_copies_wait_for_the_original_and_are_released_by_a_batch_completion():
    dedupe = Deduper()
    acks = []
    first = dedupe.check(DEV, (7, 1, None), lambda: acks.append("a"))
    second = dedupe.check(DEV, (7, 2, None), lambda: acks.append("b"))
    assert dedupe.check(DEV, (7, 1, None), lambda: acks.append("a copy")) is None
    assert dedupe.check(DEV, (7, 1, None), lambda: acks.append("a copy 2")) is None
    assert dedupe.check(DEV, (7, 2, None), lambda: acks.append("b copy")) is None
    assert acks == []
    dedupe.complete([first, second, lambda: acks.append("plain")])
    assert acks == ["a", "a copy", "a copy 2", "b", "b copy", "plain"]
    dedupe.complete([first])  # completed twice: nobody is acked twice
    assert len(acks) == 6


def test_a_pending_entry_stays_a_waiter_target_while_later_messages_are_stored():
    dedupe = Deduper()
    acks = []
    slow = dedupe.check(DEV, (7, 1, None), lambda: acks.append("slow"))
    for seq in range(2, 100):
        stored(dedupe, (7, seq, None))
    assert dedupe.check(DEV, (7, 1, None), lambda: acks.append("copy")) is None
    assert acks == []
    slow()
    assert acks == ["slow", "copy"]
    assert is_duplicate(dedupe, (7, 1, None))


def test_the_ack_and_its_message_are_let_go_once_stored():
    dedupe = Deduper()
    inbound = Inbound(b"x" * 200)
    gone = weakref.ref(inbound)
    on_stored = dedupe.check(DEV, (7, 1, None), partial(_ack, inbound))
    del inbound
    assert gone() is not None  # not stored yet: its ack must still run
    on_stored()
    gc.collect()
    assert gone() is None


def test_a_reboot_keeps_catching_redeliveries_from_before_it():
    dedupe = Deduper()
    for seq in range(10):
        stored(dedupe, (7, seq, None))
    for seq in range(5):
        stored(dedupe, (8, seq, None))  # rebooted: boot 8 counts from 0 again
    assert is_duplicate(dedupe, (7, 9, None))  # a late redelivery of boot 7
    assert is_duplicate(dedupe, (8, 4, None))
    assert not is_duplicate(dedupe, (8, 5, None))
    stored(dedupe, (9, 0, None))  # a third boot: the two latest are remembered
    assert is_duplicate(dedupe, (8, 5, None))
    assert is_duplicate(dedupe, (9, 0, None))


def test_devices_with_a_clock_but_no_boot_are_keyed_by_seq_and_time():
    dedupe = Deduper(per_device=4)
    for seq in range(3):
        stored(dedupe, (None, seq, 1_765_000_000_000 + seq))
    stored(dedupe, (None, 0, 1_765_000_900_000))  # rebooted: seq 0 again, later time
    assert is_duplicate(dedupe, (None, 0, 1_765_000_000_000))
    assert is_duplicate(dedupe, (None, 0, 1_765_000_900_000))
    assert not is_duplicate(dedupe, (None, 1, 1_765_000_900_001))
    assert not is_duplicate(dedupe, (None, 0, 1_765_000_000_000))  # the oldest of 4 went


def test_keys_outside_the_compact_forms_are_still_deduplicated():
    dedupe = Deduper()
    odd = [(None, -1, 5), (None, 1, 2**70), (3, 1, 1_765_000_000_000)]
    for key in odd:
        stored(dedupe, key)
    assert all(is_duplicate(dedupe, key) for key in odd)


def test_a_new_epoch_does_not_treat_its_messages_as_copies_of_pending_ones():
    dedupe = Deduper()
    acks = []
    dedupe.follow_seq(DEV, 5)
    old = dedupe.check(DEV, (None, 5, None), lambda: acks.append("old"))
    assert dedupe.check(DEV, (None, 5, None), lambda: acks.append("old copy")) is None
    assert dedupe.follow_seq(DEV, 0) is True
    assert dedupe.follow_seq(DEV, 5) is False
    new = dedupe.check(DEV, (None, 5, None), lambda: acks.append("new"))
    assert new is not None
    old()
    assert acks == ["old", "old copy"]
    new()
    assert acks[-1] == "new"


def retained_per_device(devices, counts):
    """Bytes the deduper holds per device after each of ``counts`` stored messages a device."""
    names = [("hq", f"d-{i:04d}") for i in range(devices)]
    found = {}
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        dedupe = Deduper()
        for seq in range(max(counts)):
            for device in names:
                inbound = Inbound(b'{"v":1,"seq":%d,"occupied":true,"boot":7}' % seq)
                dedupe.check(device, (7, seq, None), partial(_ack, inbound))()
            if seq + 1 in counts:
                gc.collect()
                found[seq + 1] = (tracemalloc.get_traced_memory()[0] - base) / devices
    finally:
        tracemalloc.stop()
    return found


def test_memory_per_device_is_small_and_does_not_grow_with_its_messages():
    held = retained_per_device(500, (10, 100))
    # Before: the last 64 messages with their payloads, ~40 KiB a device once 64
    # had come. Now a fixed record of a few hundred bytes (the device's key tuple
    # included); a 64-bit mask takes a few bytes more than a 10-bit one.
    assert held[100] < 1024, held
    assert held[100] - held[10] < 32, held
