"""Durable on-disk spool of history points that could not be stored yet (SQLite, FIFO).

While the history store is down the writer appends each batch here in one
transaction and only then acks the messages, so a crash or kill -9 loses
nothing that was acked. The spool is bounded: from ``alarm_ratio`` of its
capacity on an alarm is logged and exported, and when full the oldest points go
(counted), because a gateway that stops acking would also stop live state.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from history.base import HistoryPoint, PresencePoint, TelemetryPoint

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    point TEXT NOT NULL
);
"""


#: First element of a spooled telemetry point; never a site id (those cannot start with "_").
_TELEMETRY = "_t"


def encode_point(point: HistoryPoint) -> str:
    """Serialise a point as compact JSON (a list in field order)."""
    if isinstance(point, TelemetryPoint):
        return json.dumps(
            [
                _TELEMETRY,
                point.site,
                point.device,
                point.time_ms,
                point.uptime_s,
                point.fw,
                point.rssi,
                point.heap_free,
                point.battery_v,
                point.space,
                point.floor,
            ],
            separators=(",", ":"),
        )
    return json.dumps(
        [
            point.site,
            point.device,
            point.time_ms,
            point.occupied,
            point.seq,
            point.boot,
            point.source,
            point.clock_corrected,
            point.space,
            point.kind,
            point.floor,
            point.zone,
        ],
        separators=(",", ":"),
    )


def decode_point(text: str) -> HistoryPoint:
    """Inverse of :func:`encode_point`."""
    v = json.loads(text)
    if v[0] == _TELEMETRY:
        return TelemetryPoint(*v[1:])
    return PresencePoint(
        site=v[0],
        device=v[1],
        time_ms=v[2],
        occupied=v[3],
        seq=v[4],
        boot=v[5],
        source=v[6],
        clock_corrected=v[7],
        space=v[8],
        kind=v[9],
        floor=v[10],
        zone=v[11] if len(v) > 11 else None,
    )


class Spool:
    """A bounded FIFO of points in one SQLite file (``:memory:`` for unit tests)."""

    def __init__(
        self, path: Path | str, *, max_points: int = 1_000_000, alarm_ratio: float = 0.8
    ) -> None:
        if max_points < 1:
            raise ValueError("max_points must be at least 1")
        self.max_points = max_points
        self.alarm_at = max(1, int(max_points * alarm_ratio))
        self._lock = threading.Lock()
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed batch survives a power cut, not only a killed process.
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)
        row = self._conn.execute("SELECT COUNT(*) FROM spool").fetchone()
        self._count = int(row[0])

    def __len__(self) -> int:
        """Points waiting in the spool."""
        return self._count

    def append(self, points: Sequence[HistoryPoint]) -> int:
        """Store a batch durably (one transaction); returns how many old points were dropped.

        Raises:
            sqlite3.Error: the batch was not stored (the caller must not ack it).
        """
        if not points:
            return 0
        rows = [(encode_point(p),) for p in points]
        with self._lock, self._conn:
            self._conn.executemany("INSERT INTO spool (point) VALUES (?)", rows)
            overflow = self._count + len(rows) - self.max_points
            dropped = 0
            if overflow > 0:
                cursor = self._conn.execute(
                    "DELETE FROM spool WHERE id IN (SELECT id FROM spool ORDER BY id LIMIT ?)",
                    (overflow,),
                )
                dropped = cursor.rowcount
            self._count += len(rows) - dropped
        return dropped

    def peek(self, limit: int) -> list[tuple[int, HistoryPoint]]:
        """The oldest ``limit`` points with their row ids, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, point FROM spool ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
        return [(int(r[0]), decode_point(r[1])) for r in rows]

    def remove_through(self, last_id: int) -> None:
        """Forget every point up to and including row ``last_id`` (after it was stored)."""
        with self._lock, self._conn:
            cursor = self._conn.execute("DELETE FROM spool WHERE id <= ?", (last_id,))
            self._count = max(0, self._count - cursor.rowcount)

    def close(self) -> None:
        """Close the file; what is in it is replayed by the next start."""
        with self._lock:
            self._conn.close()
