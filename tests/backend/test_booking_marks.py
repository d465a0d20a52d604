"""The marks refresher: concurrent booking changes share reads, and none waits unbounded."""

from __future__ import annotations

import threading
import time

from backend.bookings.marks import MarksRefresher
from tests.services import wait_until


def test_changes_during_a_read_share_the_next_read():
    release = threading.Event()
    seen_at_start: list[int] = []
    refresher: MarksRefresher

    def refresh() -> None:
        seen_at_start.append(refresher._asked)  # what this read covers at the latest
        if len(seen_at_start) == 1:
            assert release.wait(30)

    refresher = MarksRefresher(refresh, wait_s=60)
    done: list[int] = []
    threads = [
        threading.Thread(target=lambda i=i: (refresher.changed(), done.append(i)))
        for i in range(20)
    ]
    threads[0].start()
    wait_until(lambda: seen_at_start, 10, what="the first read started")
    for thread in threads[1:]:
        thread.start()
    wait_until(lambda: refresher._asked == 20, 10, what="every change registered")
    assert done == []  # nobody answers on a read that began before their change
    release.set()
    for thread in threads:
        thread.join(10)
    assert sorted(done) == list(range(20))
    # One read for the first change, one more for the 19 that came during it.
    assert refresher.reads == 2
    assert seen_at_start == [1, 20]


def test_a_failing_read_does_not_fail_the_change():
    def refresh() -> None:
        raise RuntimeError("database gone")

    refresher = MarksRefresher(refresh)
    refresher.changed()  # committed already: logged, not raised
    assert refresher.reads == 1


def test_a_slow_read_bounds_the_wait_of_the_others():
    release = threading.Event()
    refresher = MarksRefresher(lambda: release.wait(30) and None, wait_s=0.5)
    first = threading.Thread(target=refresher.changed)
    first.start()
    wait_until(lambda: refresher._reading, 10, what="the slow read started")
    began = time.monotonic()
    refresher.changed()  # waits for a read that cannot start yet: gives up after wait_s
    took = time.monotonic() - began
    release.set()
    first.join(10)
    assert 0.4 < took < 10, took
