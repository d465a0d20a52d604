"""Where facility reports read occupancy history: the gateway's SQLite file or InfluxDB.

Both sources aggregate inside the store (SQL GROUP BY, InfluxQL sum/count) so a
year of 5,000 spaces never travels as raw points. Reports over long periods read
the *daily rollup* (``facility_daily``): one row per group of spaces (site,
floor, zone, kind) and local day with 24 hourly sums and the day's
opening-time sums, written by :mod:`backend.facility.rollup`. A year is then
groups x 365 rows, and the utilisation report asks the store to add up three
fields of them into one row per group.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx
from influxdb_client.client.write.point import Point
from influxdb_client.domain.write_precision import WritePrecision

from history.base import PresencePoint
from history.errors import HistoryUnavailable
from history.influx import quote_influxql
from history.sqlite import SqliteHistory

log = logging.getLogger(__name__)

#: (site, floor, zone, kind): the finest group a report ever shows.
GroupKey = tuple[str, str, str, str]
TAGS = ("site", "floor", "zone", "kind")
#: The group of the marker row of a rolled-up day without any history; never reported.
EMPTY: GroupKey = ("", "", "", "")
HOURS = 24
#: Field names of the daily rollup: occupancy sums and space-hour counts per local hour.
OCC = tuple(f"o{h:02d}" for h in range(HOURS))
CNT = tuple(f"n{h:02d}" for h in range(HOURS))
DAILY = "facility_daily"
#: Daily peaks per report key and level (see :class:`PeakRow`).
PEAK = "facility_peak"
#: InfluxDB retention policy of the rollup: kept forever, in shards of ten years. With
#: the default 7-day shards a year is 52 shards, and InfluxDB 1.x opens a cursor per
#: shard, series and field: a year's report spent seconds on that alone.
ROLLUP_RP = "facility"
ROLLUP_SHARD = "520w"
#: Local time of the reports (every site of the municipality is in it).
LOCAL = ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True, slots=True)
class DayRow:
    """One group on one local day: per local hour the summed occupancy and space-hours.

    ``occupancy[h] / samples[h]`` is the group's occupied share in hour ``h``;
    ``spaces`` is the most spaces that reported in any hour of the day.
    ``open_occupancy`` and ``open_samples`` are the same sums over the site's
    opening time of that day only (hours weighted by their open fraction; zero on
    a closed day), so the long-period report reads three fields, not 48.
    """

    group: GroupKey
    day_ms: int
    weekday: int
    occupancy: tuple[float, ...]
    samples: tuple[int, ...]
    spaces: int
    open_occupancy: float
    open_samples: float


@dataclass(frozen=True, slots=True)
class PeakRow:
    """The highest hourly occupied share of one report key on one local day (open hours).

    ``key`` is padded to (site, floor, zone, kind) with the tags the ``level``
    does not use left empty. Written by the rollup for every level, so the
    utilisation report reads one small field per key and day, not 48.
    """

    level: str
    key: GroupKey
    day_ms: int
    peak: float


@dataclass(frozen=True, slots=True)
class GroupTotal:
    """One group's opening-time sums over a period, added up by the store."""

    group: GroupKey
    open_occupancy: float
    open_samples: float
    spaces: int


@dataclass(frozen=True, slots=True)
class GroupHour:
    """Summed hourly occupancy of one group of spaces in one hour."""

    group: GroupKey
    hour_ms: int
    occupancy_sum: float
    rows: int


class HistorySource(Protocol):
    """What the facility reports need from the history store."""

    def group_hours(
        self, start_ms: int, end_ms: int, by: tuple[str, ...] = TAGS
    ) -> list[GroupHour]:
        """Hourly occupancy summed per group of the tags ``by`` (others left empty)."""

    def raw_points(self, start_ms: int, end_ms: int) -> list[PresencePoint]:
        """Raw presence points of every space in the range, oldest first."""

    def used_space_days(
        self, start_ms: int, end_ms: int, min_minutes: float
    ) -> set[tuple[str, str, str, date]]:
        """``(site, kind, space, local day)`` of every space occupied at least ``min_minutes``."""

    def write_days(self, rows: list[DayRow]) -> None:
        """Store rollup rows; a row for the same group and day replaces the old one."""

    def day_rows(self, start_ms: int, end_ms: int) -> list[DayRow]:
        """Rollup rows of the days starting in the range."""

    def group_totals(self, start_ms: int, end_ms: int) -> list[GroupTotal]:
        """Opening-time sums per group over the rollup days in the range, summed in the store."""

    def write_peaks(self, rows: list[PeakRow]) -> None:
        """Store daily peaks; a row for the same level, key and day replaces the old one."""

    def peaks(self, start_ms: int, end_ms: int, level: str) -> dict[GroupKey, float]:
        """The highest daily peak per key of ``level`` over the days in the range."""

    def last_rolled_day(self) -> int | None:
        """Local midnight (ms) of the newest rolled-up day, None before the first."""

    def first_hour(self) -> int | None:
        """Start (ms) of the oldest hourly history, None when there is none."""

    def close(self) -> None:
        """Release connections."""


def _key(site: Any, floor: Any, zone: Any, kind: Any) -> GroupKey:
    return (str(site or ""), str(floor or ""), str(zone or ""), str(kind or ""))


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
    """Reads the gateway's SQLite history file (raw table and ``presence_hourly``)."""

    def __init__(self, path: Path | str) -> None:
        self._path = Path(path)

    def _rows(self, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        if not self._path.is_file():
            # Production keeps history in InfluxDB; this file is only the embedded store.
            raise HistoryUnavailable(
                f"no history store configured: {self._path} does not exist; set"
                " WERKPLEK_INFLUX_URL with the backend's InfluxDB credential"
                " (or WERKPLEK_HISTORY_PATH to the gateway's SQLite file)"
            )
        try:
            conn = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True, timeout=10)
            try:
                return conn.execute(sql, args).fetchall()
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise HistoryUnavailable(f"cannot read {self._path}: {exc}") from exc

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
        return [GroupHour(_key(*r[:4]), int(r[4]), float(r[5]), int(r[6])) for r in rows]

    def raw_points(self, start_ms: int, end_ms: int) -> list[PresencePoint]:
        """Delegate to the gateway's own reader."""
        store = SqliteHistory(self._path, raw_retention_days=0, maintain_every_s=1e12)
        try:
            return store.query_presence(start_ms=start_ms, end_ms=end_ms)
        finally:
            store.close()

    def used_space_days(
        self, start_ms: int, end_ms: int, min_minutes: float
    ) -> set[tuple[str, str, str, date]]:
        """Occupied hours per space and hour from SQL, summed per local day here."""
        rows = self._rows(
            "SELECT site, kind, space, hour_ms, occupancy FROM presence_hourly"
            " WHERE hour_ms >= ? AND hour_ms < ? AND occupancy > 0",
            (start_ms, end_ms),
        )
        minutes: dict[tuple[str, str, str, date], float] = defaultdict(float)
        for site, kind, space, hour_ms, occupancy in rows:
            day = datetime.fromtimestamp(hour_ms / 1000, LOCAL).date()
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
                _key(*r[:4]),
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
        return [GroupTotal(_key(*r[:4]), float(r[4]), float(r[5]), int(r[6])) for r in rows]

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
        return {_key(*r[:4]): float(r[4]) for r in rows}

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


def hourly_query(start_ms: int, end_ms: int, by: tuple[str, ...] = TAGS) -> str:
    """InfluxQL summing the hourly rollup per hour and group (the benchmark's baseline too)."""
    tags = ", ".join(f'"{tag}"' for tag in TAGS if tag in by)
    return (
        'SELECT sum("occupancy"), count("occupancy") FROM "hourly"."presence_hourly"'
        f" WHERE time >= {int(start_ms)}ms AND time < {int(end_ms)}ms"
        f" GROUP BY time(1h), {tags}"
    )


class InfluxSource:
    """Reads the ``hourly`` retention policy's ``presence_hourly`` with InfluxQL."""

    def __init__(
        self,
        url: str,
        database: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        headers = {"Authorization": f"Token {token}"} if token else {}
        auth = httpx.BasicAuth(username, password or "") if username else None
        self._client = httpx.Client(base_url=url, headers=headers, auth=auth, timeout=60)
        self._auth = (token, username, password)
        self._database = database
        self._policy_ready = False

    def _series(self, q: str) -> list[dict[str, Any]]:
        try:
            response = self._client.post(
                "/query", data={"q": q, "db": self._database, "epoch": "ms"}
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise HistoryUnavailable(f"InfluxDB query failed: {exc}") from exc
        result = (body.get("results") or [{}])[0]
        if response.status_code != 200 or "error" in result or "error" in body:
            raise HistoryUnavailable(f"InfluxDB refused the query: {response.text[:300]}")
        series: list[dict[str, Any]] = result.get("series") or []
        return series

    def _where(self, start_ms: int, end_ms: int) -> str:
        return f"time >= {int(start_ms)}ms AND time < {int(end_ms)}ms"

    def group_hours(
        self, start_ms: int, end_ms: int, by: tuple[str, ...] = TAGS
    ) -> list[GroupHour]:
        """One InfluxQL aggregation: sum and count per hour and group."""
        q = hourly_query(start_ms, end_ms, by)
        out: list[GroupHour] = []
        for series in self._series(q):
            tags = series.get("tags") or {}
            key = _key(tags.get("site"), tags.get("floor"), tags.get("zone"), tags.get("kind"))
            for time_ms, total, count in series["values"]:
                if count:
                    out.append(GroupHour(key, int(time_ms), float(total), int(count)))
        return out

    def raw_points(self, start_ms: int, end_ms: int) -> list[PresencePoint]:
        """Raw presence of one day through the gateway's reader."""
        from history.influx import InfluxHistory

        token, username, password = self._auth
        store = InfluxHistory(
            str(self._client.base_url),
            self._database,
            token=token,
            username=username,
            password=password,
        )
        try:
            return store.query_presence(start_ms=start_ms, end_ms=end_ms)
        finally:
            store.close()

    def used_space_days(
        self, start_ms: int, end_ms: int, min_minutes: float
    ) -> set[tuple[str, str, str, date]]:
        """Occupied hours per space and local day, summed by InfluxDB."""
        q = (
            'SELECT sum("occupancy") FROM "hourly"."presence_hourly"'
            f" WHERE {self._where(start_ms, end_ms)}"
            f' GROUP BY time(1d), "site", "kind", "space" tz({quote_influxql(LOCAL.key)})'
        )
        out: set[tuple[str, str, str, date]] = set()
        for series in self._series(q):
            tags = series.get("tags") or {}
            for time_ms, total in series["values"]:
                if total is not None and float(total) * 60 >= min_minutes:
                    day = datetime.fromtimestamp(int(time_ms) / 1000, LOCAL).date()
                    out.add(
                        (tags.get("site", ""), tags.get("kind", ""), tags.get("space", ""), day)
                    )
        return out

    def _daily_series(self, q: str, *, missing_ok: bool = False) -> list[dict[str, Any]]:
        """Series of a rollup query.

        Without the rollup's retention policy (``werkplek influx init`` creates
        it) a report would come back empty and look like a real answer, so that
        is unavailable too; only ``missing_ok`` callers (is there a rollup yet?) get [].
        """
        try:
            return self._series(q)
        except HistoryUnavailable as exc:
            if "retention policy not found" not in str(exc):
                raise
            if missing_ok:
                return []
            raise HistoryUnavailable(
                f"the facility rollup's retention policy {ROLLUP_RP!r} does not exist on"
                f" {self._database!r}: run `werkplek influx init`, then the rollup"
                " (hourly, or POST /api/v1/facility/rollup)"
            ) from exc

    def _ensure_policy(self) -> None:
        """Create the rollup's retention policy once per source (1.x; 2.x maps it by DBRP)."""
        if self._policy_ready:
            return
        db = '"' + self._database.replace('"', '\\"') + '"'
        q = (
            f'CREATE RETENTION POLICY "{ROLLUP_RP}" ON {db} DURATION INF REPLICATION 1'
            f" SHARD DURATION {ROLLUP_SHARD}"
        )
        try:
            response = self._client.post("/query", data={"q": q})
        except httpx.HTTPError as exc:
            raise HistoryUnavailable(f"InfluxDB unreachable: {exc}") from exc
        if response.status_code >= 500:
            raise HistoryUnavailable(f"cannot create the rollup policy: {response.text[:200]}")
        if "error" in response.text and "already exists" not in response.text:
            log.warning("rollup retention policy not created: %s", response.text[:200])
        self._policy_ready = True

    def write_days(self, rows: list[DayRow]) -> None:
        """Write rollup rows to ``facility.facility_daily``; same series and time overwrite.

        Every field is written on every row (zeros included), so a rewrite
        replaces all 49 values of the old point, never a mix of old and new.
        """
        if not rows:
            return
        self._ensure_policy()
        lines = [_daily_line(r) for r in rows]
        try:
            response = self._client.post(
                "/write",
                params={"db": self._database, "rp": ROLLUP_RP, "precision": "ms"},
                content="\n".join(lines).encode(),
            )
        except httpx.HTTPError as exc:
            raise HistoryUnavailable(f"InfluxDB unreachable: {exc}") from exc
        if response.status_code not in (200, 204):
            raise HistoryUnavailable(f"rollup write HTTP {response.status_code}: {response.text}")

    def day_rows(self, start_ms: int, end_ms: int) -> list[DayRow]:
        """One series per group (and weekday tag), one value row per day."""
        fields = ", ".join(f'"{c}"' for c in (*OCC, *CNT))
        q = (
            f'SELECT "spaces", "open_occ", "open_n", {fields} FROM "{ROLLUP_RP}"."{DAILY}"'
            f' WHERE {self._where(start_ms, end_ms)} GROUP BY "site", "floor", "zone", "kind", "wd"'
        )
        out: list[DayRow] = []
        for series in self._daily_series(q):
            tags = series.get("tags") or {}
            key = _key(tags.get("site"), tags.get("floor"), tags.get("zone"), tags.get("kind"))
            if key == EMPTY:
                continue
            weekday = int(tags.get("wd") or 0)
            for row in series["values"]:
                out.append(
                    DayRow(
                        key,
                        int(row[0]),
                        weekday,
                        tuple(float(v or 0) for v in row[4 : 4 + HOURS]),
                        tuple(int(v or 0) for v in row[4 + HOURS :]),
                        int(row[1] or 0),
                        float(row[2] or 0),
                        float(row[3] or 0),
                    )
                )
        out.sort(key=lambda r: (r.day_ms, r.group))
        return out

    def group_totals(self, start_ms: int, end_ms: int) -> list[GroupTotal]:
        """One InfluxQL aggregation over three fields: one row per group."""
        out: list[GroupTotal] = []
        for series in self._daily_series(totals_query(start_ms, end_ms)):
            tags = series.get("tags") or {}
            key = _key(tags.get("site"), tags.get("floor"), tags.get("zone"), tags.get("kind"))
            if key == EMPTY:
                continue
            for _, occ, count, spaces in series["values"]:
                out.append(GroupTotal(key, float(occ or 0), float(count or 0), int(spaces or 0)))
        return out

    def write_peaks(self, rows: list[PeakRow]) -> None:
        """Write daily peaks to ``facility.facility_peak``; same series and time overwrite."""
        if not rows:
            return
        self._ensure_policy()
        try:
            response = self._client.post(
                "/write",
                params={"db": self._database, "rp": ROLLUP_RP, "precision": "ms"},
                content="\n".join(_peak_line(r) for r in rows).encode(),
            )
        except httpx.HTTPError as exc:
            raise HistoryUnavailable(f"InfluxDB unreachable: {exc}") from exc
        if response.status_code not in (200, 204):
            raise HistoryUnavailable(f"peak write HTTP {response.status_code}: {response.text}")

    def peaks(self, start_ms: int, end_ms: int, level: str) -> dict[GroupKey, float]:
        """One InfluxQL max() over one field of the level's series."""
        out: dict[GroupKey, float] = {}
        for series in self._daily_series(peaks_query(start_ms, end_ms, level)):
            tags = series.get("tags") or {}
            key = _key(tags.get("site"), tags.get("floor"), tags.get("zone"), tags.get("kind"))
            for _, value in series["values"]:
                if value is not None:
                    out[key] = float(value)
        return out

    def last_rolled_day(self) -> int | None:
        """Time of the newest rollup point (``last`` over every series)."""
        series = self._daily_series(
            f'SELECT last("spaces") FROM "{ROLLUP_RP}"."{DAILY}"', missing_ok=True
        )
        return int(series[0]["values"][0][0]) if series else None

    def first_hour(self) -> int | None:
        """Time of the oldest hourly point."""
        series = self._series('SELECT first("occupancy") FROM "hourly"."presence_hourly"')
        return int(series[0]["values"][0][0]) if series else None

    def close(self) -> None:
        """Close the HTTP pool."""
        self._client.close()


def _daily_line(row: DayRow) -> str:
    """Line protocol of one rollup row; tags escaped by influxdb_client's Point."""
    point = Point(DAILY)  # type: ignore[no-untyped-call]
    for name, value in zip(TAGS, row.group, strict=True):
        if value:
            point.tag(name, value)  # type: ignore[no-untyped-call]
    point.tag("wd", str(row.weekday))  # type: ignore[no-untyped-call]
    point.field("spaces", row.spaces)  # type: ignore[no-untyped-call]
    point.field("open_occ", float(row.open_occupancy))  # type: ignore[no-untyped-call]
    point.field("open_n", float(row.open_samples))  # type: ignore[no-untyped-call]
    for name, total in zip(OCC, row.occupancy, strict=True):
        point.field(name, float(total))  # type: ignore[no-untyped-call]
    for name, count in zip(CNT, row.samples, strict=True):
        point.field(name, int(count))  # type: ignore[no-untyped-call]
    point.time(row.day_ms, WritePrecision.MS)  # type: ignore[no-untyped-call]
    line: str = point.to_line_protocol()  # type: ignore[no-untyped-call]
    return line


def _peak_line(row: PeakRow) -> str:
    """Line protocol of one daily peak; tags escaped by influxdb_client's Point."""
    point = Point(PEAK)  # type: ignore[no-untyped-call]
    point.tag("level", row.level)  # type: ignore[no-untyped-call]
    for name, value in zip(TAGS, row.key, strict=True):
        if value:
            point.tag(name, value)  # type: ignore[no-untyped-call]
    point.field("peak", float(row.peak))  # type: ignore[no-untyped-call]
    point.time(row.day_ms, WritePrecision.MS)  # type: ignore[no-untyped-call]
    line: str = point.to_line_protocol()  # type: ignore[no-untyped-call]
    return line


def peaks_query(start_ms: int, end_ms: int, level: str) -> str:
    """InfluxQL of the highest daily peak per key of one level (the index picks the series)."""
    return (
        f'SELECT max("peak") FROM "{ROLLUP_RP}"."{PEAK}" WHERE "level" = {quote_influxql(level)}'
        f" AND time >= {int(start_ms)}ms AND time < {int(end_ms)}ms"
        ' GROUP BY "site", "floor", "zone", "kind"'
    )


def totals_query(start_ms: int, end_ms: int) -> str:
    """InfluxQL summing the rollup's opening-time fields per group (also the bench's baseline)."""
    return (
        'SELECT sum("open_occ"), sum("open_n"), max("spaces")'
        f' FROM "{ROLLUP_RP}"."{DAILY}" WHERE time >= {int(start_ms)}ms AND time < {int(end_ms)}ms'
        ' GROUP BY "site", "floor", "zone", "kind"'
    )
