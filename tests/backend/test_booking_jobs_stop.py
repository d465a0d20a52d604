"""A stop of the booking jobs waits for the database work already running in a thread.

The scheduler run, the marks read and retention run in threads. Cancelling the loop's
wait leaves such a thread running; the service would then dispose of its engine under
a transaction in progress.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from backend.bookings.jobs import _to_thread_to_the_end


def test_a_cancelled_wait_returns_only_after_the_thread_finished():
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def job() -> str:
        started.set()
        release.wait(30)
        finished.set()
        return "done"

    async def main() -> None:
        task = asyncio.create_task(_to_thread_to_the_end(job))
        assert await asyncio.to_thread(started.wait, 30), "the job never started"
        task.cancel()
        await asyncio.sleep(0.2)  # the cancelled task must still be waiting for its thread
        assert not task.done() and not finished.is_set()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert finished.is_set()

    asyncio.run(main())


def test_an_uncancelled_job_returns_its_result_and_raises_its_error():
    def fails() -> None:
        raise ValueError("no database")

    async def main() -> None:
        assert await _to_thread_to_the_end(lambda: 42) == 42
        with pytest.raises(ValueError, match="no database"):
            await _to_thread_to_the_end(fails)

    asyncio.run(main())
