"""Batching history writer on its own thread, so live state never waits for the store.

A batch goes out when ``batch_size`` (or, at high rates, 250) points are waiting,
the oldest has waited ``linger_ms``, or no point arrived for 10 ms (the broker's
in-flight window is full and waits for our acks, so lingering longer would only
cap throughput).
A point's ``on_done`` (the MQTT ack) runs only once it is stored or durably
spooled: while the store is down, or while older points still wait in the
spool, every batch is appended to the on-disk :class:`Spool` and acked, so live
data keeps flowing and a crash loses nothing that was acked. The spool is
replayed oldest first, interleaved with spooling new batches.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from gateway.metrics import GatewayMetrics
from gateway.spool import Spool
from history.base import HistoryPoint, HistoryStore
from history.errors import HistoryRejected, HistoryUnavailable

log = logging.getLogger(__name__)

#: A batch is written early when no point arrived for this long.
_IDLE_FLUSH_S = 0.01
#: ... or when this many points wait. Acks wait for the write and the broker sends
#: at most its in-flight window (1000 in deploy/) unacked: writing in quarters of
#: it keeps messages flowing while a batch is on its way, where full-window batches
#: made ingest stop-and-go. Points that gather during a write go out together (up
#: to ``batch_size``), so a slow store still gets big batches.
_PIPELINE_POINTS = 250


def _nothing() -> None:
    return None


def _run_each(done: list[Callable[[], None]]) -> None:
    for on_done in done:
        on_done()


@dataclass(slots=True)
class _Pending:
    point: HistoryPoint
    received_s: float
    on_done: Callable[[], None]


class HistoryWriter:
    """Collects points and writes them to a HistoryStore in batches, in arrival order."""

    def __init__(
        self,
        store: HistoryStore,
        metrics: GatewayMetrics,
        *,
        batch_size: int = 1000,
        linger_ms: int = 200,
        max_buffered: int = 1_000_000,
        max_backoff_s: float = 10.0,
        spool: Spool | None = None,
        after_done: Callable[[], object] = _nothing,
        run_done: Callable[[list[Callable[[], None]]], None] | None = None,
    ) -> None:
        self._store = store
        self._after_done = after_done
        self._run_done = run_done if run_done is not None else _run_each
        self._metrics = metrics
        self._batch_size = batch_size
        self._linger_s = linger_ms / 1000
        self._max_backoff_s = max_backoff_s
        self._spool = spool if spool is not None else Spool(":memory:", max_points=max_buffered)
        self._queue: deque[_Pending] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._schema_ready = False
        self._in_flight = 0
        self._retry_at = 0.0
        self._backoff = 0.2
        #: Why the store failed last; None once a store action succeeded again (health).
        self.last_failure: str | None = None
        self._alarm = False
        self._last_arrival = 0.0
        self._thread = threading.Thread(target=self._run, name="history-writer", daemon=True)
        self._metrics.spool_size(len(self._spool), self._spool.max_points, alarm=False)

    def start(self) -> None:
        """Start the writer thread (it replays what an earlier run left in the spool)."""
        if len(self._spool):
            log.warning("%d spooled points from an earlier run will be replayed", len(self._spool))
        self._thread.start()

    def submit(
        self, point: HistoryPoint, on_done: Callable[[], None] = _nothing, received_s: float = 0.0
    ) -> None:
        """Queue one point; ``on_done`` runs once it is stored or durably spooled."""
        with self._cond:
            self._queue.append(_Pending(point, received_s or time.time(), on_done))
            self._last_arrival = time.monotonic()
            self._cond.notify()

    def pending(self) -> int:
        """Points not yet in the store (in memory or in the spool)."""
        with self._cond:
            return len(self._queue) + self._in_flight + len(self._spool)

    def spooled(self) -> int:
        """Points waiting in the on-disk spool."""
        return len(self._spool)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Flush memory to the store (or the spool if it is down) and stop the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        with self._cond:
            left = list(self._queue)
            self._queue.clear()
        if left:  # the thread did not get to them: spool them so the next start has them
            self._spool_batch(left)
        if len(self._spool):
            log.warning("history writer stopped; %d points stay spooled", len(self._spool))
        if not self._thread.is_alive():  # a write still hanging keeps the file open
            self._spool.close()

    def _store_down(self) -> bool:
        return time.time() < self._retry_at

    def _next_batch(self) -> list[_Pending]:
        """Wait for a batch; returns early (maybe empty) when the spool can be replayed."""
        with self._cond:
            while not self._queue and not self._stopping:
                if len(self._spool) and not self._store_down():
                    return []
                timeout = self._retry_at - time.time() if len(self._spool) else None
                self._cond.wait(timeout)
            if self._queue and not self._stopping:  # also while spooling: fewer fsyncs
                deadline = self._queue[0].received_s + self._linger_s
                enough = min(self._batch_size, _PIPELINE_POINTS)
                while len(self._queue) < enough and not self._stopping:
                    remaining = deadline - time.time()
                    # A pause in arrivals means the broker's in-flight window is used up
                    # (it waits for our acks) or the burst is over: write now.
                    idle = time.monotonic() - self._last_arrival
                    if remaining <= 0 or idle >= _IDLE_FLUSH_S:
                        break
                    self._cond.wait(min(remaining, _IDLE_FLUSH_S - idle))
            count = min(len(self._queue), self._batch_size)
            batch = [self._queue.popleft() for _ in range(count)]
            self._in_flight = len(batch)
            return batch

    def _run(self) -> None:
        self._try(self._ensure_schema)
        while True:
            batch = self._next_batch()
            with self._cond:
                stopping = self._stopping
            if batch:
                if len(self._spool) or self._store_down():
                    self._spool_batch(batch)  # keep order: older points wait in the spool
                else:
                    self._write_batch(batch)
            elif stopping:
                return
            if len(self._spool) and not self._store_down() and not stopping:
                self._replay()

    def _ensure_schema(self) -> None:
        if not self._schema_ready:
            self._store.ensure_schema()
            self._schema_ready = True

    def _try(self, action: Callable[[], None]) -> bool:
        """Run a store action; on an outage start the backoff and return False."""
        try:
            action()
        except HistoryRejected:
            raise
        except Exception as exc:  # anything unexpected counts as an outage: never die
            if not isinstance(exc, HistoryUnavailable):
                log.exception("unexpected error talking to the history store")
            self._schema_ready = False
            self.last_failure = str(exc)[:300]
            self._metrics.event("history_retry")
            self._retry_at = time.time() + self._backoff
            log.warning("history store unavailable (%s); retry in %.1f s", exc, self._backoff)
            self._backoff = min(self._backoff * 2, self._max_backoff_s)
            return False
        self._backoff = 0.2
        self.last_failure = None
        return True

    def _write(self, points: list[HistoryPoint]) -> bool:
        def action() -> None:
            self._ensure_schema()
            self._store.write_points(points)

        try:
            return self._try(action)
        except HistoryRejected as exc:
            self._metrics.event("history_rejected", len(points))
            log.error("history store rejected %d points: %s", len(points), exc)
            return True  # retrying cannot help: the batch is done

    def _write_batch(self, batch: list[_Pending]) -> None:
        if not self._write([p.point for p in batch]):
            self._spool_batch(batch)
            return
        self._finish(batch)
        now = time.time()
        for pending in batch:
            self._metrics.observe_latency(now - pending.received_s)
        self._metrics.event("stored", len(batch))

    def _spool_batch(self, batch: list[_Pending]) -> None:
        try:
            dropped = self._spool.append([p.point for p in batch])
        except sqlite3.Error as exc:
            # Not acked: the broker keeps the messages and redelivers them after a restart.
            log.error("spool write failed (%s): %d messages left unacknowledged", exc, len(batch))
            self._metrics.event("spool_failed", len(batch))
            with self._cond:
                self._in_flight = 0
            return
        self._finish(batch)
        self._metrics.event("spooled", len(batch))
        if dropped:
            self._metrics.event("history_dropped", dropped)
            log.error(
                "spool full (%d points): dropped the %d oldest", self._spool.max_points, dropped
            )
        self._check_alarm()

    def _replay(self) -> None:
        chunk = self._spool.peek(self._batch_size)
        if not chunk:
            return
        if self._write([point for _, point in chunk]):
            self._spool.remove_through(chunk[-1][0])
            self._metrics.event("replayed", len(chunk))
            self._check_alarm()
            if not len(self._spool):
                log.info("spool replayed; history store up to date")

    def _check_alarm(self) -> None:
        size = len(self._spool)
        if size >= self._spool.alarm_at and not self._alarm:
            self._alarm = True
            log.error(
                "ALARM spool %d/%d points (%.0f%%): history store down too long",
                size,
                self._spool.max_points,
                100 * size / self._spool.max_points,
            )
        elif size < self._spool.alarm_at // 2 and self._alarm:
            self._alarm = False
            log.warning("spool alarm cleared (%d points)", size)
        self._metrics.spool_size(size, self._spool.max_points, alarm=self._alarm)

    def _finish(self, batch: list[_Pending]) -> None:
        with self._cond:
            self._in_flight = 0
        self._run_done([pending.on_done for pending in batch])
        self._after_done()  # e.g. send the batch's MQTT acks in one write
