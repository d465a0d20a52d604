"""The booking cap (backend/bookings/gate.py): a few at once, the rest wait in order, bounded."""

from __future__ import annotations

import threading
import time

import anyio
import pytest

from backend.bookings.gate import BookingGate
from backend.database_limits import DatabaseBusy


def _run_six(gate: BookingGate) -> tuple[list[int], int, list[int]]:
    """Six bookings arriving 10 ms apart: their results, the most at once, the start order."""
    lock = threading.Lock()
    running: list[int] = []
    most = [0]
    started: list[int] = []

    def work(i: int) -> int:
        with lock:
            running.append(i)
            started.append(i)
            most[0] = max(most[0], len(running))
        time.sleep(0.05)
        with lock:
            running.remove(i)
        return i * 10

    async def main() -> list[int]:
        results: list[int] = []

        async def one(i: int) -> None:
            results.append(await gate.run(lambda: work(i)))

        async with anyio.create_task_group() as tasks:
            for i in range(6):
                tasks.start_soon(one, i)
                await anyio.sleep(0.01)  # each reaches the gate before the next starts
        return results

    results = anyio.run(main)
    return results, most[0], started


def test_no_more_than_the_slots_run_at_once() -> None:
    results, most, _started = _run_six(BookingGate(slots=2, wait_s=30))
    assert sorted(results) == [0, 10, 20, 30, 40, 50]
    assert most == 2


def test_the_waiting_ones_start_in_arrival_order() -> None:
    # One slot, so the start order is the order of the grants. (With two slots, two
    # granted at nearly the same moment start their threads in either order: seen
    # once on a loaded machine, [3, 2, 5, 4].)
    results, most, started = _run_six(BookingGate(slots=1, wait_s=30))
    assert sorted(results) == [0, 10, 20, 30, 40, 50]
    assert most == 1
    assert started == [0, 1, 2, 3, 4, 5]


def test_a_wait_longer_than_the_bound_is_a_503_pool_exhausted_and_nothing_runs() -> None:
    gate = BookingGate(slots=1, wait_s=0.2)
    release = threading.Event()
    ran: list[str] = []

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(gate.run, lambda: release.wait(30))
            await anyio.sleep(0.05)
            with pytest.raises(DatabaseBusy) as caught:
                await gate.run(lambda: ran.append("late"))
            release.set()
        assert caught.value.reason == "pool_exhausted"
        assert caught.value.retry_after == 1
        # The slot is free again once the first is done.
        assert await gate.run(lambda: "next") == "next"

    anyio.run(main)
    assert ran == []
