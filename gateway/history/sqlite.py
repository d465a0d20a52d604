"""Embedded presence history in SQLite, for the demo and single-box installs."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from gateway.errors import HistoryUnavailable
from gateway.history.base import PresencePoint

_SCHEMA = """
CREATE TABLE IF NOT EXISTS presence (
    site TEXT NOT NULL,
    device TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    occupied INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    boot INTEGER,
    source TEXT NOT NULL,
    clock_corrected INTEGER NOT NULL,
    space TEXT,
    kind TEXT,
    floor TEXT,
    PRIMARY KEY (site, device, time_ms)
);
CREATE INDEX IF NOT EXISTS presence_space_time ON presence (space, time_ms);
CREATE INDEX IF NOT EXISTS presence_device_time ON presence (device, time_ms);
"""

_UPSERT = """
INSERT INTO presence (site, device, time_ms, occupied, seq, boot, source, clock_corrected,
                      space, kind, floor)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (site, device, time_ms) DO UPDATE SET
    occupied = excluded.occupied, seq = excluded.seq, boot = excluded.boot,
    source = excluded.source, clock_corrected = excluded.clock_corrected,
    space = excluded.space, kind = excluded.kind, floor = excluded.floor
"""

_COLUMNS = "site, device, time_ms, occupied, seq, boot, source, clock_corrected, space, kind, floor"


class SqliteHistory:
    """HistoryStore on one SQLite file (WAL); the primary key makes rewrites idempotent."""

    def __init__(self, path: Path | str) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self._path, check_same_thread=False, timeout=10)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            except (OSError, sqlite3.Error) as exc:
                raise HistoryUnavailable(f"cannot open {self._path}: {exc}") from exc
            self._conn = conn
        return self._conn

    def ensure_schema(self) -> None:
        """Create the table and its indexes."""
        with self._lock:
            try:
                self._connection().executescript(_SCHEMA)
            except sqlite3.Error as exc:
                raise HistoryUnavailable(f"cannot create schema: {exc}") from exc

    def write_points(self, points: Sequence[PresencePoint]) -> None:
        """Upsert one batch in a single transaction."""
        rows = [
            (
                p.site,
                p.device,
                p.time_ms,
                int(p.occupied),
                p.seq,
                p.boot,
                p.source,
                int(p.clock_corrected),
                p.space,
                p.kind,
                p.floor,
            )
            for p in points
        ]
        with self._lock:
            conn = self._connection()
            try:
                with conn:
                    conn.executemany(_UPSERT, rows)
            except sqlite3.Error as exc:
                raise HistoryUnavailable(f"write failed: {exc}") from exc

    def query_presence(
        self,
        *,
        start_ms: int,
        end_ms: int,
        device: str | None = None,
        space: str | None = None,
    ) -> list[PresencePoint]:
        """Return the points of a device or space in ``[start_ms, end_ms)``, oldest first."""
        where = ["time_ms >= ?", "time_ms < ?"]
        args: list[object] = [start_ms, end_ms]
        if device is not None:
            where.append("device = ?")
            args.append(device)
        if space is not None:
            where.append("space = ?")
            args.append(space)
        sql = (
            f"SELECT {_COLUMNS} FROM presence WHERE {' AND '.join(where)} ORDER BY time_ms, device"
        )
        with self._lock:
            try:
                rows = self._connection().execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise HistoryUnavailable(f"query failed: {exc}") from exc
        return [
            PresencePoint(
                site=r[0],
                device=r[1],
                time_ms=r[2],
                occupied=bool(r[3]),
                seq=r[4],
                boot=r[5],
                source=r[6],
                clock_corrected=bool(r[7]),
                space=r[8],
                kind=r[9],
                floor=r[10],
            )
            for r in rows
        ]

    def close(self) -> None:
        """Close the connection; a later call reopens it."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
