"""Embedded presence history in SQLite, for the demo and single-box installs.

Retention is enforced here too: at most once per ``maintain_every_s`` a write
first rolls complete hours up into ``presence_hourly`` (mean occupancy and
sample count per space) and then deletes raw rows older than the raw retention.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from history.base import HistoryPoint, PresencePoint, TelemetryPoint
from history.errors import HistoryUnavailable

log = logging.getLogger(__name__)

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
CREATE TABLE IF NOT EXISTS presence_hourly (
    site TEXT NOT NULL,
    space TEXT NOT NULL,
    hour_ms INTEGER NOT NULL,
    kind TEXT,
    floor TEXT,
    zone TEXT,
    occupancy REAL NOT NULL,
    samples INTEGER NOT NULL,
    PRIMARY KEY (site, space, hour_ms)
);
CREATE TABLE IF NOT EXISTS telemetry (
    site TEXT NOT NULL,
    device TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    uptime_s INTEGER NOT NULL,
    fw TEXT NOT NULL,
    rssi INTEGER,
    heap_free INTEGER,
    battery_v REAL,
    space TEXT,
    floor TEXT,
    PRIMARY KEY (site, device, time_ms)
);
CREATE INDEX IF NOT EXISTS presence_space_time ON presence (space, time_ms);
CREATE INDEX IF NOT EXISTS presence_device_time ON presence (device, time_ms);
-- The backend's facility rollup reads one day of every space at a time and the
-- hourly retention deletes by time: both need hour_ms first. Same name as the
-- backend's facility rollup creates (history/facility/sqlite.py), so either may come first.
CREATE INDEX IF NOT EXISTS facility_hourly_time ON presence_hourly (hour_ms);
"""

_UPSERT = """
INSERT INTO presence (site, device, time_ms, occupied, seq, boot, source, clock_corrected,
                      space, kind, floor, zone)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (site, device, time_ms) DO UPDATE SET
    occupied = excluded.occupied, seq = excluded.seq, boot = excluded.boot,
    source = excluded.source, clock_corrected = excluded.clock_corrected,
    space = excluded.space, kind = excluded.kind, floor = excluded.floor, zone = excluded.zone
"""

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
#: Late points (a device's offline buffer) can arrive up to 7 days late; re-roll that window.
_REROLL_MS = 8 * DAY_MS

_ROLLUP = """
INSERT INTO presence_hourly (site, space, hour_ms, kind, floor, zone, occupancy, samples)
SELECT site, space, (time_ms / 3600000) * 3600000 AS hour, MAX(kind), MAX(floor), MAX(zone),
       AVG(occupied), COUNT(*)
FROM presence WHERE space IS NOT NULL AND time_ms >= ? AND time_ms < ?
GROUP BY site, space, hour
ON CONFLICT (site, space, hour_ms) DO UPDATE SET
    kind = excluded.kind, floor = excluded.floor, zone = excluded.zone,
    occupancy = excluded.occupancy, samples = excluded.samples
"""

_UPSERT_TELEMETRY = """
INSERT OR REPLACE INTO telemetry (site, device, time_ms, uptime_s, fw, rssi, heap_free,
                                  battery_v, space, floor)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

_COLUMNS = (
    "site, device, time_ms, occupied, seq, boot, source, clock_corrected, space, kind, floor, zone"
)


class SqliteHistory:
    """HistoryStore on one SQLite file (WAL); the primary key makes rewrites idempotent."""

    def __init__(
        self,
        path: Path | str,
        *,
        raw_retention_days: int = 30,
        hourly_retention_days: int = 0,
        maintain_every_s: float = 3600.0,
    ) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._raw_ms = raw_retention_days * DAY_MS
        self._hourly_ms = hourly_retention_days * DAY_MS
        self._maintain_every_s = maintain_every_s
        self._next_maintain = 0.0

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
                conn = self._connection()
                conn.executescript(_SCHEMA)
                columns = {row[1] for row in conn.execute("PRAGMA table_info(presence)")}
                if "zone" not in columns:  # a file from before the zone tag
                    conn.execute("ALTER TABLE presence ADD COLUMN zone TEXT")
            except sqlite3.Error as exc:
                raise HistoryUnavailable(f"cannot create schema: {exc}") from exc

    def write_points(self, points: Sequence[HistoryPoint]) -> None:
        """Upsert one batch (presence and telemetry) in a single transaction."""
        telemetry = [
            (t.site, t.device, t.time_ms, t.uptime_s, t.fw, t.rssi, t.heap_free, t.battery_v)
            + (t.space, t.floor)
            for t in points
            if isinstance(t, TelemetryPoint)
        ]
        presence = [p for p in points if isinstance(p, PresencePoint)]
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
                p.zone,
            )
            for p in presence
        ]
        with self._lock:
            conn = self._connection()
            try:
                with conn:
                    conn.executemany(_UPSERT, rows)
                    if telemetry:
                        conn.executemany(_UPSERT_TELEMETRY, telemetry)
            except sqlite3.Error as exc:
                raise HistoryUnavailable(f"write failed: {exc}") from exc
        if time.monotonic() >= self._next_maintain:
            self._next_maintain = time.monotonic() + self._maintain_every_s
            try:
                self.maintain(int(time.time() * 1000))
            except HistoryUnavailable as exc:  # the batch itself is stored; retry next time
                log.error("history maintenance failed: %s", exc)

    def maintain(self, now_ms: int) -> None:
        """Roll complete hours up into ``presence_hourly``, then prune beyond the retention."""
        hour_start = now_ms // HOUR_MS * HOUR_MS
        since = hour_start - _REROLL_MS
        if self._raw_ms:  # never re-roll an hour whose raw rows are partly pruned
            since = max(since, ((now_ms - self._raw_ms) // HOUR_MS + 1) * HOUR_MS)
        with self._lock:
            conn = self._connection()
            try:
                with conn:
                    conn.execute(_ROLLUP, (since, hour_start))
                    if self._raw_ms:
                        conn.execute(
                            "DELETE FROM presence WHERE time_ms < ?", (now_ms - self._raw_ms,)
                        )
                        conn.execute(
                            "DELETE FROM telemetry WHERE time_ms < ?", (now_ms - self._raw_ms,)
                        )
                    if self._hourly_ms:
                        conn.execute(
                            "DELETE FROM presence_hourly WHERE hour_ms < ?",
                            (now_ms - self._hourly_ms,),
                        )
            except sqlite3.Error as exc:
                raise HistoryUnavailable(f"maintenance failed: {exc}") from exc

    def hourly(self, space: str, start_ms: int, end_ms: int) -> list[tuple[int, float, int]]:
        """``(hour_ms, occupancy, samples)`` rows of a space, oldest first."""
        with self._lock:
            rows = (
                self._connection()
                .execute(
                    "SELECT hour_ms, occupancy, samples FROM presence_hourly"
                    " WHERE space = ? AND hour_ms >= ? AND hour_ms < ? ORDER BY hour_ms",
                    (space, start_ms, end_ms),
                )
                .fetchall()
            )
        return [(int(r[0]), float(r[1]), int(r[2])) for r in rows]

    def query_presence(
        self,
        *,
        start_ms: int,
        end_ms: int,
        device: str | None = None,
        space: str | None = None,
    ) -> list[PresencePoint]:
        """Return the points of a device or space in ``[start_ms, end_ms)``, oldest first."""
        sql, args = _presence_query(start_ms, end_ms, device, space)
        with self._lock:
            try:
                rows = self._connection().execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise HistoryUnavailable(f"query failed: {exc}") from exc
        return [_presence_point(r) for r in rows]

    def close(self) -> None:
        """Close the connection; a later call reopens it."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class SqliteReader:
    """Read-only access to the history file, for the backend (the gateway owns and writes it).

    Every read opens the file read-only (``mode=ro``) and closes it again, so a
    reader never creates the file, never writes raw presence and never runs the
    writer's rollup and pruning (:meth:`SqliteHistory.maintain`).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def rows(self, sql: str, args: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one read.

        Raises:
            HistoryUnavailable: the file does not exist or cannot be read.
        """
        if not self.path.is_file():
            # Production keeps history in InfluxDB; this file is only the embedded store.
            raise HistoryUnavailable(
                f"no history store configured: {self.path} does not exist; set"
                " WERKPLEK_INFLUX_URL with the backend's InfluxDB credential"
                " (or WERKPLEK_HISTORY_PATH to the gateway's SQLite file)"
            )
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
            try:
                return conn.execute(sql, tuple(args)).fetchall()
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise HistoryUnavailable(f"cannot read {self.path}: {exc}") from exc

    def query_presence(
        self,
        *,
        start_ms: int,
        end_ms: int,
        device: str | None = None,
        space: str | None = None,
    ) -> list[PresencePoint]:
        """Raw points of a device or space (or all) in ``[start_ms, end_ms)``, oldest first."""
        sql, args = _presence_query(start_ms, end_ms, device, space)
        return [_presence_point(r) for r in self.rows(sql, args)]


def _presence_query(
    start_ms: int, end_ms: int, device: str | None, space: str | None
) -> tuple[str, list[object]]:
    where = ["time_ms >= ?", "time_ms < ?"]
    args: list[object] = [start_ms, end_ms]
    if device is not None:
        where.append("device = ?")
        args.append(device)
    if space is not None:
        where.append("space = ?")
        args.append(space)
    sql = f"SELECT {_COLUMNS} FROM presence WHERE {' AND '.join(where)} ORDER BY time_ms, device"
    return sql, args


def _presence_point(r: Sequence[Any]) -> PresencePoint:
    return PresencePoint(
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
        zone=r[11],
    )
