"""The facility reader on InfluxDB: hourly history in, the daily rollup in its own policy.

Reads ``hourly.presence_hourly`` (the gateway's continuous query writes it) and
raw ``presence`` for one day at a time; writes and reads the backend's rollup
``facility.facility_daily`` and ``facility.facility_peak``. Every request goes
through :class:`~history.influx_client.InfluxClient`.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from influxdb_client.client.write.point import Point
from influxdb_client.domain.write_precision import WritePrecision

from history.base import PresencePoint
from history.errors import HistoryUnavailable
from history.facility.base import (
    CNT,
    DAILY,
    EMPTY,
    HOURS,
    OCC,
    PEAK,
    ROLLUP_RP,
    ROLLUP_SHARD,
    TAGS,
    DayRow,
    GroupHour,
    GroupKey,
    GroupTotal,
    PeakRow,
    SiteTimeZones,
    group_key,
)
from history.influx import query_presence
from history.influx_client import InfluxClient, influx_ident, quote_influxql

log = logging.getLogger(__name__)


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
        timeout_s: float = 60.0,
    ) -> None:
        self._client = InfluxClient(
            url, database, token=token, username=username, password=password, timeout_s=timeout_s
        )
        self._database = database
        self._policy_ready = False

    def _series(self, q: str) -> list[dict[str, Any]]:
        return self._client.query(q)

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
            key = group_key(tags.get("site"), tags.get("floor"), tags.get("zone"), tags.get("kind"))
            for time_ms, total, count in series["values"]:
                if count:
                    out.append(GroupHour(key, int(time_ms), float(total), int(count)))
        return out

    def raw_points(self, start_ms: int, end_ms: int) -> list[PresencePoint]:
        """Raw presence of the range through the store's read side (no writer built)."""
        return query_presence(self._client, start_ms, end_ms)

    def used_space_days(
        self, start_ms: int, end_ms: int, min_minutes: float, zones: SiteTimeZones
    ) -> set[tuple[str, str, str, date]]:
        """Occupied hours per space and its site's local day, summed by InfluxDB.

        One query per time zone in use (usually one): InfluxDB buckets the days
        at that zone's midnight (``tz()``) for the sites in it; the default zone's
        query takes every site not named elsewhere.
        """
        out: set[tuple[str, str, str, date]] = set()
        elsewhere = zones.elsewhere()
        others = [site for sites in elsewhere.values() for site in sites]
        wanted = [(zones.default.key, _sites_clause(others, "!=", " AND "))]
        wanted += [(key, _sites_clause(sites, "=", " OR ")) for key, sites in elsewhere.items()]
        for key, sites in wanted:
            q = (
                'SELECT sum("occupancy") FROM "hourly"."presence_hourly"'
                f" WHERE {self._where(start_ms, end_ms)}{sites}"
                f' GROUP BY time(1d), "site", "kind", "space" tz({quote_influxql(key)})'
            )
            tz = ZoneInfo(key)
            for series in self._series(q):
                tags = series.get("tags") or {}
                for time_ms, total in series["values"]:
                    if total is not None and float(total) * 60 >= min_minutes:
                        day = datetime.fromtimestamp(int(time_ms) / 1000, tz).date()
                        site, kind = tags.get("site", ""), tags.get("kind", "")
                        out.add((site, kind, tags.get("space", ""), day))
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
        q = (
            f"CREATE RETENTION POLICY {influx_ident(ROLLUP_RP)} ON {influx_ident(self._database)}"
            f" DURATION INF REPLICATION 1 SHARD DURATION {ROLLUP_SHARD}"
        )
        error = self._client.statement(q)
        if error is not None and "already exists" not in error:
            log.warning("rollup retention policy not created: %s", error[:200])
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
        response = self._client.write("\n".join(lines).encode(), retention_policy=ROLLUP_RP)
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
            key = group_key(tags.get("site"), tags.get("floor"), tags.get("zone"), tags.get("kind"))
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
            key = group_key(tags.get("site"), tags.get("floor"), tags.get("zone"), tags.get("kind"))
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
        body = "\n".join(_peak_line(r) for r in rows).encode()
        response = self._client.write(body, retention_policy=ROLLUP_RP)
        if response.status_code not in (200, 204):
            raise HistoryUnavailable(f"peak write HTTP {response.status_code}: {response.text}")

    def peaks(self, start_ms: int, end_ms: int, level: str) -> dict[GroupKey, float]:
        """One InfluxQL max() over one field of the level's series."""
        out: dict[GroupKey, float] = {}
        for series in self._daily_series(peaks_query(start_ms, end_ms, level)):
            tags = series.get("tags") or {}
            key = group_key(tags.get("site"), tags.get("floor"), tags.get("zone"), tags.get("kind"))
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


def _sites_clause(sites: list[str] | tuple[str, ...], op: str, join: str) -> str:
    """`` AND (...)`` comparing the site tag with each of ``sites``; empty for none."""
    if not sites:
        return ""
    return " AND (" + join.join(f'"site" {op} {quote_influxql(s)}' for s in sites) + ")"


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
