"""Where facility reports read occupancy history: the gateway's SQLite file or InfluxDB.

Both sources aggregate inside the store (SQL GROUP BY, InfluxQL sum/count on the
hourly rollup) so a year of 5,000 spaces never travels as raw points.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from gateway.errors import HistoryUnavailable
from gateway.history.base import PresencePoint
from gateway.history.sqlite import SqliteHistory

#: (site, floor, zone, kind): the finest group a report ever shows.
GroupKey = tuple[str, str, str, str]
TAGS = ("site", "floor", "zone", "kind")


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

    def group_spaces(self, start_ms: int, end_ms: int) -> dict[GroupKey, int]:
        """Number of distinct spaces with history per group."""

    def raw_points(self, start_ms: int, end_ms: int) -> list[PresencePoint]:
        """Raw presence points of every space in the range, oldest first."""

    def close(self) -> None:
        """Release connections."""


def _key(site: Any, floor: Any, zone: Any, kind: Any) -> GroupKey:
    return (str(site or ""), str(floor or ""), str(zone or ""), str(kind or ""))


class SqliteSource:
    """Reads the gateway's SQLite history file (raw table and ``presence_hourly``)."""

    def __init__(self, path: Path | str) -> None:
        self._path = Path(path)

    def _rows(self, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
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

    def group_spaces(self, start_ms: int, end_ms: int) -> dict[GroupKey, int]:
        """Count distinct spaces per group in SQL."""
        rows = self._rows(
            "SELECT site, floor, zone, kind, COUNT(DISTINCT space) FROM presence_hourly"
            " WHERE hour_ms >= ? AND hour_ms < ? GROUP BY site, floor, zone, kind",
            (start_ms, end_ms),
        )
        return {_key(*r[:4]): int(r[4]) for r in rows}

    def raw_points(self, start_ms: int, end_ms: int) -> list[PresencePoint]:
        """Delegate to the gateway's own reader."""
        store = SqliteHistory(self._path, raw_retention_days=0, maintain_every_s=1e12)
        try:
            return store.query_presence(start_ms=start_ms, end_ms=end_ms)
        finally:
            store.close()

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

    def group_spaces(self, start_ms: int, end_ms: int) -> dict[GroupKey, int]:
        """Count the space series per group (one row per space)."""
        q = (
            'SELECT count("occupancy") FROM "hourly"."presence_hourly"'
            f" WHERE {self._where(start_ms, end_ms)}"
            ' GROUP BY "site", "floor", "zone", "kind", "space"'
        )
        out: dict[GroupKey, int] = {}
        for series in self._series(q):
            tags = series.get("tags") or {}
            key = _key(tags.get("site"), tags.get("floor"), tags.get("zone"), tags.get("kind"))
            out[key] = out.get(key, 0) + 1
        return out

    def raw_points(self, start_ms: int, end_ms: int) -> list[PresencePoint]:
        """Raw presence of one day through the gateway's reader."""
        from gateway.history.influx import InfluxHistory

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

    def close(self) -> None:
        """Close the HTTP pool."""
        self._client.close()
