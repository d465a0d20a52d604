import threading
import time

from gateway.metrics import GatewayMetrics
from gateway.spool import Spool
from gateway.writer import HistoryWriter
from history.base import PresencePoint
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


class GatedHistory(MemoryHistory):
    """Holds the writer in its first call until ``gate`` is set.

    Points submitted meanwhile are all queued before the writer looks at the queue,
    so batch sizes do not depend on how the two threads happen to be scheduled.
    """

    def __init__(self):
        super().__init__()
        self.gate = threading.Event()

    def ensure_schema(self):
        assert self.gate.wait(30), "the test never opened the gate"
        super().ensure_schema()


def test_batches_by_size_then_after_a_pause_and_acks_after_storing():
    store = GatedHistory()
    writer, metrics = make(store, batch_size=10, linger_ms=60_000)
    acks = []
    for i in range(25):
        writer.submit(pt(i), lambda i=i: acks.append(i))
    store.gate.set()
    # The tail of 5 does not wait the 60 s linger: arrivals paused (the broker's
    # in-flight window would be full now), so it goes out after 10 ms.
    wait_until(lambda: len(store.points) == 25, 30, what="all points stored, well before linger")
    assert [len(b) for b in store.batches] == [10, 10, 5]
    wait_until(lambda: len(acks) == 25, 30)
    assert acks == list(range(25))
    assert metrics.snapshot()["stored"] == 25
    writer.stop()


def test_a_steady_trickle_is_batched_up_to_the_linger():
    """Every batch ends for a reason: the linger ran out, or arrivals paused for 10 ms.

    The sleep between points is shorter than that pause, but a loaded machine may
    oversleep; so the test records when each point was submitted and checks every
    batch boundary against it, instead of counting batches (a count depends on the
    machine's speed). Flushing per point, or early while points keep coming, fails.
    """
    store = MemoryHistory()
    linger_s, pause_s, enough = 0.15, 0.01, 250
    writer, _ = make(store, batch_size=1000, linger_ms=int(linger_s * 1000))
    before, after = [], []  # monotonic time around each submit
    start = time.monotonic()
    while time.monotonic() - start < 0.5:
        before.append(time.monotonic())
        writer.submit(pt(len(before) - 1))
        after.append(time.monotonic())
        time.sleep(0.003)  # faster than the 10 ms pause that flushes early
    wait_until(lambda: len(store.points) == len(before), 30, what="all stored")
    writer.stop()
    assert [p.seq for p in store.points] == list(range(len(before)))
    sizes = [len(b) for b in store.batches]
    first = 0
    for size in sizes[:-1]:
        last, following = first + size - 1, first + size
        # The following point was submitted after the flush, which came once the first
        # point had lingered, or once no point had arrived for the pause after the last.
        lingered = after[following] - before[first] >= linger_s - 0.001
        paused = after[following] - before[last] >= pause_s
        assert lingered or paused or size >= enough, (sizes, first, size)
        first = following


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
    wait_until(lambda: len(acks) >= 4, 30)
    store.down = False
    wait_until(lambda: len(store.points) == 10, 30, what="stored after recovery")
    assert [p.seq for p in store.points] == list(range(10))
    assert writer.pending() == 0
    assert metrics.snapshot()["history_retry"] >= 2
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


def test_stop_during_outage_keeps_the_points_in_the_spool_for_the_next_start(tmp_path):
    store = MemoryHistory()
    store.down = True
    spool = Spool(tmp_path / "spool.sqlite3")
    writer, metrics = make(store, batch_size=1000, linger_ms=60_000, spool=spool)
    acks = []
    for i in range(3):
        writer.submit(pt(i), lambda i=i: acks.append(i))
    writer.stop(timeout_s=2)
    assert acks == [0, 1, 2]  # acked only because they are on disk
    assert "history_lost_on_stop" not in metrics.snapshot()
    store.down = False
    writer, metrics = make(store, spool=Spool(tmp_path / "spool.sqlite3"))
    wait_until(lambda: metrics.snapshot().get("replayed") == 3, 5, what="replayed after restart")
    assert [p.seq for p in store.points] == [0, 1, 2]
    writer.stop()
    assert len(Spool(tmp_path / "spool.sqlite3")) == 0


def test_full_spool_drops_the_oldest_and_raises_the_alarm_first(caplog):
    store = MemoryHistory()
    store.down = True
    writer, metrics = make(store, batch_size=2, linger_ms=0, max_buffered=5, max_backoff_s=60)
    acks = []
    for i in range(20):
        writer.submit(pt(i), lambda i=i: acks.append(i))
    wait_until(lambda: len(acks) == 20, 5, what="all spooled and acked")
    assert writer.spooled() == 5
    assert metrics.snapshot()["history_dropped"] == 15
    assert metrics.registry.get_sample_value("werkplek_gateway_spool_alarm") == 1
    assert metrics.registry.get_sample_value("werkplek_gateway_spool_points") == 5
    assert any("ALARM spool" in r.message for r in caplog.records)
    store.down = False
    writer.stop(timeout_s=2)


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
