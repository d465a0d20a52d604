"""Bounded SQLite table of rejected messages, so operators can see what devices send wrong.

The file (``<state_dir>/deadletter.sqlite3``) may be read by the backend; only the
newest ``max_rows`` rejections are kept.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_BYTES = 4096

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letter (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_ms INTEGER NOT NULL,
    topic TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    payload BLOB NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One rejected message with the raw bytes as received."""

    received_ms: int
    topic: str
    reason: str
    detail: str
    payload: bytes

    @classmethod
    def of(cls, inbound: Any, reason: str, detail: str) -> DeadLetter:
        """The record of a rejected inbound message, cut to 4 KiB of topic and payload.

        A broker may allow payloads of megabytes; 4 KiB is enough to diagnose.
        """
        return cls(
            inbound.received_ms,
            inbound.topic[:MAX_BYTES],
            reason,
            detail,
            inbound.payload[:MAX_BYTES],
        )


class DeadLetterStore:
    """Append rejected messages, prune the oldest beyond ``max_rows``, list the newest."""

    def __init__(self, path: Path | str, max_rows: int = 10_000) -> None:
        if max_rows < 1:
            raise ValueError("max_rows must be at least 1")
        self._max_rows = max_rows
        self._lock = threading.Lock()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=10)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)

    def add(self, letter: DeadLetter) -> None:
        """Store one rejection and drop rows beyond the cap."""
        with self._lock, self._conn:
            cursor = self._conn.execute(
                "INSERT INTO dead_letter (received_ms, topic, reason, detail, payload)"
                " VALUES (?, ?, ?, ?, ?)",
                (letter.received_ms, letter.topic, letter.reason, letter.detail, letter.payload),
            )
            newest = cursor.lastrowid or 0
            self._conn.execute("DELETE FROM dead_letter WHERE id <= ?", (newest - self._max_rows,))

    def recent(self, limit: int = 100) -> list[DeadLetter]:
        """The newest ``limit`` rejections, newest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT received_ms, topic, reason, detail, payload FROM dead_letter"
                " ORDER BY id DESC LIMIT ?",
                (max(0, limit),),
            ).fetchall()
        return [DeadLetter(r[0], r[1], r[2], r[3], bytes(r[4])) for r in rows]

    def count(self) -> int:
        """How many rejections are kept."""
        with self._lock:
            row = self._conn.execute("SELECT COUNT(*) FROM dead_letter").fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._conn.close()
