"""Presence history in InfluxDB through its v1-compatible HTTP API (1.x, 2.x and 3).

Line protocol: measurement and tags are escaped by ``influxdb_client.Point``
(once per tag set); numbers and the enumerated ``source`` are appended;
writes are gzip-compressed with ``precision=ms``; reads are InfluxQL on /query.

Retention on InfluxDB 1.x is created by ``werkplek influx init`` (admin); a
gateway with a least-privilege user only checks it (:mod:`history.retention`),
one with admin rights (development, tests) still creates it at start-up. Raw
points go to the default retention policy ``raw`` (``raw_retention_days``);
a continuous query rolls them up per hour, space, kind, floor and zone into
``presence_hourly`` in the ``hourly`` policy (``hourly_retention_days``, 0 = forever).
Telemetry (measurement ``telemetry``) lives in ``raw`` too and is rolled up per
hour and device into ``telemetry_hourly`` (mean/min RSSI, min battery and free
heap, report count), kept as long as ``presence_hourly``.
"""

from __future__ import annotations

import functools
import gzip
import logging
from collections.abc import Sequence
from typing import Any

import httpx
from influxdb_client.client.write.point import Point
from influxdb_client.domain.write_precision import WritePrecision

from history.base import (
    MEASUREMENT,
    TELEMETRY_MEASUREMENT,
    HistoryPoint,
    PresencePoint,
    TelemetryPoint,
)
from history.errors import HistoryRejected, HistoryUnavailable
from history.influx_client import InfluxClient, influx_ident, quote_influxql
from history.retention import NOT_CHECKED, RetentionStatus, check_retention

log = logging.getLogger(__name__)

#: Tag keys in sorted order, as line protocol prefers them.
_TAGS = ("device", "floor", "kind", "site", "space", "zone")
#: The field that closes the template line whose series key is cut off below.
_PROBE = " occupied=0i"
#: Values of the one string field; the contract allows nothing else.
_SOURCES = frozenset({"pir", "radar", "fused"})


@functools.lru_cache(maxsize=65536)  # one entry per device and assignment
def _series_key(tags: tuple[tuple[str, str], ...]) -> str:
    """Measurement and tags, escaped by influxdb_client's Point (never by hand).

    Point costs half the gateway's CPU when run per message, so it runs once
    per distinct tag set; the hot path only appends numbers.
    """
    template = Point(MEASUREMENT)  # type: ignore[no-untyped-call]
    for name, value in tags:
        template.tag(name, value)  # type: ignore[no-untyped-call]
    line: str = template.field("occupied", 0).to_line_protocol()  # type: ignore[no-untyped-call]
    if not line.endswith(_PROBE):
        raise ValueError(f"unexpected line protocol from Point: {line!r}")
    return line[: -len(_PROBE)]


def to_line(point: PresencePoint) -> str:
    """Encode one point as a line of line protocol (tags and fields in sorted order)."""
    tags = tuple((name, value) for name in _TAGS if (value := getattr(point, name)))
    if point.source not in _SOURCES:  # never reached with validated messages
        return _point_line(point, tags)
    boot = "" if point.boot is None else f"boot={point.boot}i,"
    return (
        f"{_series_key(tags)} {boot}clock_corrected={'true' if point.clock_corrected else 'false'},"
        f'occupied={int(point.occupied)}i,seq={point.seq}i,source="{point.source}" {point.time_ms}'
    )


def telemetry_line(point: TelemetryPoint) -> str:
    """Encode a telemetry report through Point (it escapes the free-text ``fw``).

    Telemetry arrives about once a minute per device, so the slow, safe path is
    fine; unknown (``None``) figures are left out rather than stored as 0.
    """
    line = Point(TELEMETRY_MEASUREMENT)  # type: ignore[no-untyped-call]
    for name in ("device", "floor", "site", "space"):
        value = getattr(point, name)
        if value:
            line.tag(name, value)  # type: ignore[no-untyped-call]
    if point.battery_v is not None:
        line.field("battery_v", float(point.battery_v))  # type: ignore[no-untyped-call]
    line.field("fw", point.fw)  # type: ignore[no-untyped-call]
    if point.heap_free is not None:
        line.field("heap_free", point.heap_free)  # type: ignore[no-untyped-call]
    if point.rssi is not None:
        line.field("rssi", point.rssi)  # type: ignore[no-untyped-call]
    line.field("uptime_s", point.uptime_s)  # type: ignore[no-untyped-call]
    line.time(point.time_ms, WritePrecision.MS)  # type: ignore[no-untyped-call]
    encoded: str = line.to_line_protocol()  # type: ignore[no-untyped-call]
    return encoded


def _any_line(point: HistoryPoint) -> str:
    if isinstance(point, PresencePoint):
        return to_line(point)
    return telemetry_line(point)


def _point_line(point: PresencePoint, tags: tuple[tuple[str, str], ...]) -> str:
    """The whole line through Point: the slow path for a string that needs escaping."""
    line = Point(MEASUREMENT)  # type: ignore[no-untyped-call]
    for name, value in tags:
        line.tag(name, value)  # type: ignore[no-untyped-call]
    if point.boot is not None:
        line.field("boot", point.boot)  # type: ignore[no-untyped-call]
    line.field("clock_corrected", point.clock_corrected)  # type: ignore[no-untyped-call]
    line.field("occupied", int(point.occupied))  # type: ignore[no-untyped-call]
    line.field("seq", point.seq)  # type: ignore[no-untyped-call]
    line.field("source", point.source)  # type: ignore[no-untyped-call]
    line.time(point.time_ms, WritePrecision.MS)  # type: ignore[no-untyped-call]
    encoded: str = line.to_line_protocol()  # type: ignore[no-untyped-call]
    return encoded


class InfluxHistory:
    """HistoryStore speaking the InfluxDB v1 HTTP API with httpx."""

    def __init__(
        self,
        url: str,
        database: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        raw_retention_days: int = 30,
        hourly_retention_days: int = 0,
    ) -> None:
        self._raw_days = raw_retention_days
        self._hourly_days = hourly_retention_days
        self._database = database
        self._client = InfluxClient(
            url,
            database,
            token=token,
            username=username,
            password=password,
            timeout_s=timeout_s,
            transport=transport,
        )
        #: The last retention check; see :meth:`check_retention`.
        self.retention: RetentionStatus = NOT_CHECKED
        #: Schema statements the server refused at the last :meth:`ensure_schema`.
        self.schema_problems: list[str] = []

    def check_retention(self) -> RetentionStatus:
        """Check that the retention policies match the settings; a problem is logged as error."""
        status = check_retention(self._client, self._raw_days, self._hourly_days)
        if status.ok is False:
            log.error("history retention not in place: %s", status.reason)
        self.retention = status
        return status

    def ensure_schema(self) -> None:
        """Create the schema where allowed, then check the retention that matters.

        A least-privilege user (production) is refused the first statement and
        creates nothing: ``werkplek influx init`` did that. Either way the
        retention policies are checked, so a missing one is reported, not assumed.
        """
        try:
            self._create_schema()
        finally:
            self.check_retention()

    def _create_schema(self) -> None:
        """Create the database, retention policies and hourly rollups; refusals are kept."""
        db = influx_ident(self._database)
        self.schema_problems = []
        error = self._statement(f"CREATE DATABASE {db}")
        if error is not None:
            self.schema_problems.append(f"CREATE DATABASE: {error}")
            if "admin privilege" in error or "authoriz" in error:
                log.info(
                    "no admin rights on InfluxDB: the schema is left to `werkplek influx init`"
                )
                return
            log.warning("CREATE DATABASE %s refused; assuming it exists", self._database)
        raw = f"DURATION {self._raw_days}d" if self._raw_days else "DURATION INF"
        hourly = f"DURATION {self._hourly_days}d" if self._hourly_days else "DURATION INF"
        ok = self._policy(f'"raw" ON {db} {raw}', default=True)
        ok = self._policy(f'"hourly" ON {db} {hourly}', default=False) and ok
        if not ok:
            return  # InfluxDB 2.x/3 manage retention on the bucket instead
        self._continuous_query("presence_hourly", hourly_presence_select(self._database))
        self._continuous_query(
            "telemetry_hourly",
            f'SELECT mean("rssi") AS "rssi_mean", min("rssi") AS "rssi_min",'
            ' min("battery_v") AS "battery_v_min", min("heap_free") AS "heap_free_min",'
            ' count("uptime_s") AS "reports"'
            f' INTO {db}."hourly"."telemetry_hourly" FROM {db}."raw"."{TELEMETRY_MEASUREMENT}"'
            ' GROUP BY time(1h), "site", "floor", "space", "device"',
        )

    def _continuous_query(self, name: str, select: str) -> None:
        """Create (or replace) one hourly continuous query; a refusal is logged."""
        db = influx_ident(self._database)
        cq = f'CREATE CONTINUOUS QUERY "{name}" ON {db} RESAMPLE EVERY 1h FOR 1d BEGIN {select} END'
        error = self._statement(cq)
        if error is not None and "already exists" in error:
            self._statement(f'DROP CONTINUOUS QUERY "{name}" ON {db}')
            error = self._statement(cq)
        if error is not None:
            self.schema_problems.append(f"continuous query {name}: {error}")
            log.warning("continuous query %s not created: %s", name, error)

    def _policy(self, spec: str, *, default: bool) -> bool:
        """Create or alter one retention policy; False when the server refuses both."""
        suffix = " DEFAULT" if default else ""
        error = self._statement(f"CREATE RETENTION POLICY {spec} REPLICATION 1{suffix}")
        if error is not None and "already exists" in error:
            error = self._statement(f"ALTER RETENTION POLICY {spec}{suffix}")
        if error is not None:
            self.schema_problems.append(f"retention policy {spec}: {error}")
            log.warning("retention policy %s not set: %s", spec, error)
            return False
        return True

    def _statement(self, q: str) -> str | None:
        """Run one management statement; returns its error text, None on success."""
        return self._client.statement(q)

    def write_points(self, points: Sequence[HistoryPoint]) -> None:
        """POST one gzip-compressed batch (presence and telemetry lines) to /write."""
        if not points:
            return
        body = gzip.compress("\n".join(_any_line(p) for p in points).encode("utf-8"), 1)
        response = self._client.write(body, gzipped=True)
        if response.status_code == 204 or response.status_code == 200:
            return
        detail = f"/write HTTP {response.status_code}: {response.text[:300]}"
        if response.status_code == 400 and "beyond retention policy" in response.text:
            # The other points are written; points older than the raw retention are
            # dropped by design (a very late offline buffer): nothing to retry.
            log.warning("points older than the retention were not stored: %s", detail)
            return
        # 400 = bad points (type conflict, parse error), 413 = too big: retrying cannot help.
        if response.status_code in (400, 413, 422):
            raise HistoryRejected(detail)
        raise HistoryUnavailable(detail)

    def query_presence(
        self,
        *,
        start_ms: int,
        end_ms: int,
        device: str | None = None,
        space: str | None = None,
    ) -> list[PresencePoint]:
        """Run InfluxQL on /query and return the points oldest first."""
        return query_presence(self._client, start_ms, end_ms, device=device, space=space)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()


def hourly_presence_select(database: str, where: str = "") -> str:
    """The hourly rollup of raw presence per space (the continuous query's SELECT).

    ``where`` limits it to a time range, to roll up past data (:func:`backfill_hourly`).
    """
    db = influx_ident(database)
    return (
        'SELECT mean("occupied") AS "occupancy", count("occupied") AS "samples"'
        f' INTO {db}."hourly"."presence_hourly" FROM {db}."raw"."{MEASUREMENT}"'
        f"{' WHERE ' + where if where else ''}"
        ' GROUP BY time(1h), "site", "floor", "zone", "space", "kind"'
    )


def backfill_hourly(client: InfluxClient, start_ms: int, end_ms: int) -> None:
    """Roll raw presence of a past range up per hour (the continuous query covers only now).

    For history imported from elsewhere, and for tests that write a past month.

    Raises:
        HistoryUnavailable: InfluxDB is unreachable or refused the statement.
    """
    where = f"time >= {int(start_ms)}ms AND time < {int(end_ms)}ms"
    client.query(hourly_presence_select(client.database, where))


def query_presence(
    client: InfluxClient,
    start_ms: int,
    end_ms: int,
    *,
    device: str | None = None,
    space: str | None = None,
) -> list[PresencePoint]:
    """Raw presence points of a device or space in ``[start_ms, end_ms)``, oldest first.

    The read side of the store, shared by :class:`InfluxHistory` and the
    backend's facility reader (which never builds the gateway's writer).

    Raises:
        HistoryUnavailable: InfluxDB is unreachable or refused the query.
    """
    where = [f"time >= {int(start_ms)}ms", f"time < {int(end_ms)}ms"]
    if device is not None:
        where.append(f"device = {quote_influxql(device)}")
    if space is not None:
        where.append(f"space = {quote_influxql(space)}")
    series = client.query(
        f'SELECT * FROM "{MEASUREMENT}" WHERE {" AND ".join(where)} ORDER BY time ASC'
    )
    try:
        return _points_from_series(series)
    except (KeyError, TypeError, ValueError) as exc:
        raise HistoryUnavailable(f"/query answer not understood: {exc!r}") from exc


def _points_from_series(found: list[dict[str, Any]]) -> list[PresencePoint]:
    points: list[PresencePoint] = []
    for series in found:
        columns = series["columns"]
        for values in series["values"]:
            row = dict(zip(columns, values, strict=True))
            points.append(
                PresencePoint(
                    site=row["site"],
                    device=row["device"],
                    time_ms=int(row["time"]),
                    occupied=bool(row["occupied"]),
                    seq=int(row["seq"]),
                    boot=None if row.get("boot") is None else int(row["boot"]),
                    source=row["source"],
                    clock_corrected=bool(row["clock_corrected"]),
                    space=row.get("space") or None,
                    kind=row.get("kind") or None,
                    floor=row.get("floor") or None,
                    zone=row.get("zone") or None,
                )
            )
    points.sort(key=lambda p: (p.time_ms, p.device))
    return points
