import threading
import time

from gateway.history.base import PresencePoint
from gateway.metrics import GatewayMetrics
from gateway.writer import HistoryWriter
from tests.gateway.fakes import MemoryHistory
from tests.services import wait_until

T0 = 1_764_410_400_000


def pt(i):
    return PresencePoint("hq", "d-1", T0 + i, i % 2 == 0, i, None, "pir", False)


def make(store, **kw):
    metrics = GatewayMetrics()
    writer = HistoryWriter(store, metrics, **kw)
    writer.start()
    return writer, metrics


def test_batches_by_size_then_linger_and_acks_after_storing():
    store = MemoryHistory()
    writer, metrics = make(store, batch_size=10, linger_ms=150)
    acks = []
    start = time.monotonic()
    for i in range(25):
        writer.submit(pt(i), lambda i=i: acks.append(i))
    wait_until(lambda: len(store.points) == 25, 5, what="all points stored")
    took = time.monotonic() - start
    assert [len(b) for b in store.batches] == [10, 10, 5]
    assert 0.1 <= took < 2.0, took  # the tail of 5 waited for the linger
    wait_until(lambda: len(acks) == 25, 2)
    assert acks == list(range(25))
    assert metrics.snapshot()["stored"] == 25
    writer.stop()


def test_outage_keeps_points_in_order_and_retries():
    store = MemoryHistory()
    store.down = True
    writer, metrics = make(store, batch_size=4, linger_ms=10)
    acks = []
    for i in range(10):
        writer.submit(pt(i), lambda i=i: acks.append(i))
    wait_until(lambda: metrics.snapshot().get("history_retry", 0) >= 2, 5, what="retried")
    assert store.points == []
    assert writer.pending() == 10
    # Acks are sent during an outage so the broker keeps delivering live data.
    wait_until(lambda: len(acks) >= 4, 2)
    store.down = False
    took = wait_until(lambda: len(store.points) == 10, 10, what="stored after recovery")
    assert [p.seq for p in store.points] == list(range(10))
    assert writer.pending() == 0
    assert metrics.snapshot()["history_retry"] >= 2
    assert took < 10
    writer.stop()
    assert sorted(acks) == list(range(10))


def test_outage_does_not_hammer_the_store_on_every_new_point():
    store = MemoryHistory()
    store.down = True
    writer, _ = make(store, batch_size=1, linger_ms=0, max_backoff_s=5)
    for i in range(200):
        writer.submit(pt(i))
        time.sleep(0.002)
    assert store.attempts < 10, store.attempts
    writer.stop(timeout_s=1)


def test_rejected_batch_is_dropped_and_counted():
    store = MemoryHistory()
    store.reject = True
    writer, metrics = make(store, batch_size=5, linger_ms=10)
    done = threading.Event()
    for i in range(5):
        writer.submit(pt(i), done.set)
    wait_until(lambda: metrics.snapshot().get("history_rejected") == 5, 5)
    assert done.is_set() and writer.pending() == 0
    writer.stop()


def test_stop_flushes_what_is_queued():
    store = MemoryHistory()
    writer, _ = make(store, batch_size=1000, linger_ms=60_000)
    for i in range(7):
        writer.submit(pt(i))
    writer.stop()
    assert len(store.points) == 7


def test_stop_during_outage_reports_the_loss():
    store = MemoryHistory()
    store.down = True
    writer, metrics = make(store, batch_size=1000, linger_ms=60_000)
    for i in range(3):
        writer.submit(pt(i))
    writer.stop(timeout_s=2)
    assert metrics.snapshot()["history_lost_on_stop"] == 3


def test_full_buffer_drops_the_oldest():
    store = MemoryHistory()
    store.down = True
    writer, metrics = make(store, batch_size=2, linger_ms=0, max_buffered=5, max_backoff_s=60)
    for i in range(20):
        writer.submit(pt(i))
    assert writer.pending() <= 7  # 5 queued + at most one batch in flight
    assert metrics.snapshot()["history_dropped"] >= 13
    store.down = False
    writer.stop(timeout_s=2)
    assert [p.seq for p in store.points][-3:] == [17, 18, 19]


def test_an_unexpected_store_error_does_not_kill_the_writer():
    store = MemoryHistory()
    real_write = store.write_points
    calls = []

    def broken_once(points):
        calls.append(len(points))
        if len(calls) == 1:
            raise RuntimeError("bug in a store")
        real_write(points)

    store.write_points = broken_once
    writer, metrics = make(store, batch_size=10, linger_ms=0)
    writer.submit(pt(1))
    wait_until(lambda: len(store.points) == 1, 5, what="stored after the unexpected error")
    assert metrics.snapshot()["history_retry"] == 1
    writer.stop()
