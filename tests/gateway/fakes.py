"""Fakes at the HistoryStore boundary."""

from __future__ import annotations

import threading

from history.errors import HistoryRejected, HistoryUnavailable


class MemoryHistory:
    """A HistoryStore in a list; ``down`` makes it fail like an unreachable server."""

    def __init__(self):
        self.points = []
        self.batches = []
        self.down = False
        self.reject = False
        self.attempts = 0  # every contact that failed or wrote
        self.schema_calls = 0
        self.lock = threading.Lock()

    def ensure_schema(self):
        self.schema_calls += 1
        if self.down:
            self.attempts += 1
            raise HistoryUnavailable("down")

    def write_points(self, points):
        with self.lock:
            self.attempts += 1
            if self.down:
                raise HistoryUnavailable("down")
            if self.reject:
                raise HistoryRejected("bad points")
            self.batches.append(list(points))
            self.points.extend(points)

    def query_presence(self, *, start_ms, end_ms, device=None, space=None):
        with self.lock:
            return [
                p
                for p in self.points
                if start_ms <= p.time_ms < end_ms
                and (device is None or p.device == device)
                and (space is None or p.space == space)
            ]

    def close(self):
        pass
