"""Batching history writer on its own thread, so live state never waits for the store.

A batch goes out when ``batch_size`` points are waiting or the oldest has waited
``linger_ms``. After a successful write each point's ``on_done`` runs (the MQTT
ack). If the store is down the points stay in memory, in order, and are retried
with backoff; their acks are sent anyway so the broker keeps delivering live
data (the gap: a crash during an outage loses the in-memory points).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.errors import HistoryRejected, HistoryUnavailable
from gateway.history.base import HistoryStore, PresencePoint
from gateway.metrics import GatewayMetrics

log = logging.getLogger(__name__)


def _nothing() -> None:
    return None


@dataclass(slots=True)
class _Pending:
    point: PresencePoint
    received_s: float
    on_done: Callable[[], None]
    acked: bool = field(default=False)

    def ack(self) -> None:
        if not self.acked:
            self.acked = True
            self.on_done()


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
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._batch_size = batch_size
        self._linger_s = linger_ms / 1000
        self._max_buffered = max_buffered
        self._max_backoff_s = max_backoff_s
        self._queue: deque[_Pending] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._schema_ready = False
        self._in_flight = 0
        self._retry_at = 0.0
        self._thread = threading.Thread(target=self._run, name="history-writer", daemon=True)

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def submit(
        self, point: PresencePoint, on_done: Callable[[], None] = _nothing, received_s: float = 0.0
    ) -> None:
        """Queue one point; ``on_done`` runs once it is stored (or buffered during an outage)."""
        with self._cond:
            if len(self._queue) >= self._max_buffered:
                dropped = self._queue.popleft()
                dropped.ack()
                self._metrics.event("history_dropped")
                log.error("history buffer full (%d points): dropped the oldest", self._max_buffered)
            self._queue.append(_Pending(point, received_s or time.time(), on_done))
            self._cond.notify()

    def pending(self) -> int:
        """Points not yet stored."""
        with self._cond:
            return len(self._queue) + self._in_flight

    def stop(self, timeout_s: float = 5.0) -> None:
        """Flush what is queued (one last attempt if the store is down) and stop the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        left = self.pending()
        if left:
            log.error("history writer stopped with %d points not stored", left)
            self._metrics.event("history_lost_on_stop", left)

    def _next_batch(self) -> list[_Pending]:
        with self._cond:
            while not self._queue and not self._stopping:
                self._cond.wait()
            while not self._stopping and time.time() < self._retry_at:
                self._cond.wait(self._retry_at - time.time())
            if self._queue and not self._stopping:
                deadline = self._queue[0].received_s + self._linger_s
                while len(self._queue) < self._batch_size and not self._stopping:
                    remaining = deadline - time.time()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            count = min(len(self._queue), self._batch_size)
            batch = [self._queue.popleft() for _ in range(count)]
            self._in_flight = len(batch)
            return batch

    def _run(self) -> None:
        try:  # create the database at start-up, off the caller's thread
            self._store.ensure_schema()
            self._schema_ready = True
        except Exception as exc:  # noqa: BLE001 - retried before the first write
            log.warning("history store not ready at start-up (%s); will retry", exc)
        backoff = 0.2
        while True:
            batch = self._next_batch()
            if not batch:
                return  # stopping and nothing left
            try:
                if not self._schema_ready:
                    self._store.ensure_schema()
                    self._schema_ready = True
                self._store.write_points([p.point for p in batch])
            except HistoryRejected as exc:
                self._finish(batch)
                self._metrics.event("history_rejected", len(batch))
                log.error("history store rejected %d points: %s", len(batch), exc)
            except Exception as exc:
                # Anything unexpected is treated as an outage: the thread must not die.
                if not isinstance(exc, HistoryUnavailable):
                    log.exception("unexpected error writing history")
                self._schema_ready = False
                self._metrics.event("history_retry")
                log.warning("history store unavailable (%s); %d points kept", exc, len(batch))
                for pending in batch:
                    pending.ack()
                with self._cond:
                    self._queue.extendleft(reversed(batch))
                    self._in_flight = 0
                    if self._stopping:
                        return
                    self._retry_at = time.time() + backoff
                backoff = min(backoff * 2, self._max_backoff_s)
                continue
            else:
                # Ack before counting, so whoever sees "stored" knows the acks are queued.
                self._finish(batch)
                now = time.time()
                for pending in batch:
                    self._metrics.observe_latency(now - pending.received_s)
                self._metrics.event("stored", len(batch))
            backoff = 0.2

    def _finish(self, batch: list[_Pending]) -> None:
        with self._cond:
            self._in_flight = 0
        for pending in batch:
            pending.ack()
