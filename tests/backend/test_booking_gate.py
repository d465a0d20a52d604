"""The booking cap (backend/bookings/gate.py): a few at once, the rest wait in order, bounded."""

from __future__ import annotations

import threading
import time

import anyio
import pytest

from backend.bookings.gate import BookingGate
from backend.database_limits import DatabaseBusy


def test_no_more_than_the_slots_run_at_once_and_the_rest_start_in_arrival_order() -> None:
    gate = BookingGate(slots=2, wait_s=30)
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
                await anyio.sleep(0.01)  # arrive in this order
        return results

    results = anyio.run(main)
    assert sorted(results) == [0, 10, 20, 30, 40, 50]
    assert most[0] == 2
    assert started[2:] == [2, 3, 4, 5]  # the waiting ones in the order they came


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
