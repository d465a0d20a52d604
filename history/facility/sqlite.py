"""The facility reader on the embedded SQLite history file.

Reads the gateway's ``presence`` and ``presence_hourly`` tables read-only
(:class:`~history.sqlite.SqliteReader`) and keeps the backend's own rollup
tables ``facility_daily`` and ``facility_peak`` in the same file (the gateway
never touches them). Aggregation happens in SQL.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from history.base import PresencePoint
from history.errors import HistoryUnavailable
from history.facility.base import (
    CNT,
    DAILY,
    HOURS,
    OCC,
    PEAK,
    TAGS,
    DayRow,
    GroupHour,
    GroupKey,
    GroupTotal,
    PeakRow,
    SiteTimeZones,
    group_key,
)
from history.sqlite import SqliteReader

_DAILY_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {DAILY} (
    site TEXT NOT NULL, floor TEXT NOT NULL, zone TEXT NOT NULL, kind TEXT NOT NULL,
    day_ms INTEGER NOT NULL, wd INTEGER NOT NULL, spaces INTEGER NOT NULL,
    open_occ REAL NOT NULL, open_n REAL NOT NULL,
    {", ".join(f"{c} REAL NOT NULL" for c in OCC)},
    {", ".join(f"{c} INTEGER NOT NULL" for c in CNT)},
    PRIMARY KEY (site, floor, zone, kind, day_ms)
)
"""


_PEAK_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {PEAK} (
    level TEXT NOT NULL, site TEXT NOT NULL, floor TEXT NOT NULL, zone TEXT NOT NULL,
    kind TEXT NOT NULL, day_ms INTEGER NOT NULL, peak REAL NOT NULL,
    PRIMARY KEY (level, site, floor, zone, kind, day_ms)
)
"""


class SqliteSource:
    """Facility reports on the SQLite history file (raw, ``presence_hourly`` and the rollup)."""

    def __init__(self, path: Path | str) -> None:
        self._path = Path(path)
        self._reader = SqliteReader(self._path)

    def _rows(self, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        return self._reader.rows(sql, args)

    def group_hours(
        self, start_ms: int, end_ms: int, by: tuple[str, ...] = TAGS
    ) -> list[GroupHour]:
        """Sum ``presence_hourly`` per group and hour in SQL."""
        columns = ", ".join(tag if tag in by else "''" for tag in TAGS)
        group = ", ".join(tag for tag in TAGS if tag in by)
        rows = self._rows(
            f"SELECT {columns}, hour_ms, SUM(occupancy), COUNT(*)"
            " FROM presence_hourly WHERE hour_ms >= ? AND hour_ms < ?"
            f" GROUP BY {group}, hour_ms",
            (start_ms, end_ms),
        )
        return [GroupHour(group_key(*r[:4]), int(r[4]), float(r[5]), int(r[6])) for r in rows]

    def raw_points(self, start_ms: int, end_ms: int) -> list[PresencePoint]:
        """Raw presence through the read-only reader."""
        return self._reader.query_presence(start_ms=start_ms, end_ms=end_ms)

    def used_space_days(
        self, start_ms: int, end_ms: int, min_minutes: float, zones: SiteTimeZones
    ) -> set[tuple[str, str, str, date]]:
        """Occupied hours per space and hour from SQL, summed per site's local day here."""
        rows = self._rows(
            "SELECT site, kind, space, hour_ms, occupancy FROM presence_hourly"
            " WHERE hour_ms >= ? AND hour_ms < ? AND occupancy > 0",
            (start_ms, end_ms),
        )
        minutes: dict[tuple[str, str, str, date], float] = defaultdict(float)
        for site, kind, space, hour_ms, occupancy in rows:
            day = datetime.fromtimestamp(hour_ms / 1000, zones.of(str(site))).date()
            minutes[(str(site), str(kind or ""), str(space), day)] += float(occupancy) * 60
        return {key for key, value in minutes.items() if value >= min_minutes}

    def write_days(self, rows: list[DayRow]) -> None:
        """Upsert rollup rows into ``facility_daily`` in the same file (created on first use).

        The file must exist already (``mode=rw``): the gateway owns it, a missing
        history is an error rather than a new empty file.
        """
        cols = ", ".join((*OCC, *CNT))
        marks = ", ".join("?" * (9 + 2 * HOURS))
        sql = (
            f"INSERT OR REPLACE INTO {DAILY} (site, floor, zone, kind, day_ms, wd, spaces,"
            f" open_occ, open_n, {cols}) VALUES ({marks})"
        )
        try:
            conn = sqlite3.connect(f"file:{self._path}?mode=rw", uri=True, timeout=10)
            try:
                with conn:
                    conn.execute(_DAILY_SCHEMA)
                    # The rollup reads one day of presence_hourly at a time; without
                    # this index every day would scan the whole table.
                    conn.execute(
                        "CREATE INDEX IF NOT EXISTS facility_hourly_time"
                        " ON presence_hourly (hour_ms)"
                    )
                    conn.executemany(
                        sql,
                        [
                            (
                                *r.group,
                                r.day_ms,
                                r.weekday,
                                r.spaces,
                                r.open_occupancy,
                                r.open_samples,
                                *r.occupancy,
                                *r.samples,
                            )
                            for r in rows
                        ],
                    )
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise HistoryUnavailable(f"cannot write rollup to {self._path}: {exc}") from exc

    def _daily(self, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        """Rows from the rollup table; none before the first rollup created it."""
        try:
            return self._rows(sql, args)
        except HistoryUnavailable as exc:
            if f"no such table: {DAILY}" in str(exc):
                return []
            raise

    def day_rows(self, start_ms: int, end_ms: int) -> list[DayRow]:
        """Read rollup rows in SQL order."""
        cols = ", ".join((*OCC, *CNT))
        rows = self._daily(
            f"SELECT site, floor, zone, kind, day_ms, wd, spaces, open_occ, open_n, {cols}"
            f" FROM {DAILY}"
            " WHERE day_ms >= ? AND day_ms < ? AND site != ''"
            " ORDER BY day_ms, site, floor, zone, kind",
            (start_ms, end_ms),
        )
        return [
            DayRow(
                group_key(*r[:4]),
                int(r[4]),
                int(r[5]),
                tuple(float(v) for v in r[9 : 9 + HOURS]),
                tuple(int(v) for v in r[9 + HOURS :]),
                int(r[6]),
                float(r[7]),
                float(r[8]),
            )
            for r in rows
        ]

    def group_totals(self, start_ms: int, end_ms: int) -> list[GroupTotal]:
        """Sum the opening-time fields per group in SQL."""
        rows = self._daily(
            "SELECT site, floor, zone, kind, SUM(open_occ), SUM(open_n), MAX(spaces)"
            f" FROM {DAILY} WHERE day_ms >= ? AND day_ms < ? AND site != ''"
            " GROUP BY site, floor, zone, kind",
            (start_ms, end_ms),
        )
        return [GroupTotal(group_key(*r[:4]), float(r[4]), float(r[5]), int(r[6])) for r in rows]

    def write_peaks(self, rows: list[PeakRow]) -> None:
        """Upsert daily peaks into ``facility_peak`` (created on first use)."""
        if not rows:
            return
        try:
            conn = sqlite3.connect(f"file:{self._path}?mode=rw", uri=True, timeout=10)
            try:
                with conn:
                    conn.execute(_PEAK_SCHEMA)
                    conn.executemany(
                        f"INSERT OR REPLACE INTO {PEAK} (level, site, floor, zone, kind, day_ms,"
                        " peak) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [(r.level, *r.key, r.day_ms, r.peak) for r in rows],
                    )
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise HistoryUnavailable(f"cannot write peaks to {self._path}: {exc}") from exc

    def peaks(self, start_ms: int, end_ms: int, level: str) -> dict[GroupKey, float]:
        """MAX(peak) per key in SQL; nothing before the first rollup wrote a peak."""
        try:
            rows = self._rows(
                f"SELECT site, floor, zone, kind, MAX(peak) FROM {PEAK}"
                " WHERE level = ? AND day_ms >= ? AND day_ms < ?"
                " GROUP BY site, floor, zone, kind",
                (level, start_ms, end_ms),
            )
        except HistoryUnavailable as exc:
            if f"no such table: {PEAK}" in str(exc):
                return {}
            raise
        return {group_key(*r[:4]): float(r[4]) for r in rows}

    def last_rolled_day(self) -> int | None:
        """Newest ``day_ms`` in the rollup table."""
        rows = self._daily(f"SELECT MAX(day_ms) FROM {DAILY}", ())
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    def first_hour(self) -> int | None:
        """Oldest ``hour_ms`` of ``presence_hourly``."""
        value = self._rows("SELECT MIN(hour_ms) FROM presence_hourly", ())[0][0]
        return None if value is None else int(value)

    def close(self) -> None:
        """Nothing to release: every read opens and closes its own connection."""
