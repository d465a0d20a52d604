"""Presence history in InfluxDB through its v1-compatible HTTP API (1.x, 2.x and 3).

Line protocol comes from ``influxdb_client.Point`` (it escapes and sorts tags);
writes are gzip-compressed with ``precision=ms``; reads are InfluxQL on /query.
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Sequence
from typing import Any

import httpx
from influxdb_client.client.write.point import Point
from influxdb_client.domain.write_precision import WritePrecision

from gateway.errors import HistoryRejected, HistoryUnavailable
from gateway.history.base import MEASUREMENT, PresencePoint

log = logging.getLogger(__name__)

_TAGS = ("site", "device", "space", "kind", "floor")
#: influxdb_client ships without annotations on Point; keep the Any in one place.
_POINT: Any = Point


def to_line(point: PresencePoint) -> str:
    """Encode one point as a line of line protocol."""
    p: Any = _POINT(MEASUREMENT)
    for tag in _TAGS:
        value = getattr(point, tag)
        if value:
            p = p.tag(tag, value)
    p = p.field("occupied", int(point.occupied)).field("seq", point.seq)
    if point.boot is not None:
        p = p.field("boot", point.boot)
    p = p.field("source", point.source).field("clock_corrected", point.clock_corrected)
    line: str = p.time(point.time_ms, WritePrecision.MS).to_line_protocol()
    return line


def quote_influxql(value: str) -> str:
    """Quote a string literal for InfluxQL."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


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
    ) -> None:
        headers = {"Authorization": f"Token {token}"} if token else {}
        auth = httpx.BasicAuth(username, password or "") if username else None
        self._database = database
        self._client = httpx.Client(
            base_url=url, headers=headers, auth=auth, timeout=timeout_s, transport=transport
        )

    def ensure_schema(self) -> None:
        """Run ``CREATE DATABASE``; a refusal (2.x/3, missing rights) is logged, not fatal."""
        name = self._database.replace("\\", "\\\\").replace('"', '\\"')
        try:
            response = self._client.post("/query", data={"q": f'CREATE DATABASE "{name}"'})
        except httpx.HTTPError as exc:
            raise HistoryUnavailable(f"InfluxDB unreachable: {exc}") from exc
        if response.status_code >= 500:
            raise HistoryUnavailable(f"CREATE DATABASE: HTTP {response.status_code}")
        error = _statement_error(response)
        if response.status_code >= 400 or error:
            log.warning(
                "CREATE DATABASE %s refused (HTTP %s: %s); assuming it exists",
                self._database,
                response.status_code,
                error or response.text[:200],
            )

    def write_points(self, points: Sequence[PresencePoint]) -> None:
        """POST one gzip-compressed batch to /write."""
        if not points:
            return
        body = gzip.compress("\n".join(to_line(p) for p in points).encode("utf-8"), 1)
        try:
            response = self._client.post(
                "/write",
                params={"db": self._database, "precision": "ms"},
                content=body,
                headers={"Content-Encoding": "gzip", "Content-Type": "text/plain; charset=utf-8"},
            )
        except httpx.HTTPError as exc:
            raise HistoryUnavailable(f"InfluxDB unreachable: {exc}") from exc
        if response.status_code == 204 or response.status_code == 200:
            return
        detail = f"/write HTTP {response.status_code}: {response.text[:300]}"
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
        where = [f"time >= {int(start_ms)}ms", f"time < {int(end_ms)}ms"]
        if device is not None:
            where.append(f"device = {quote_influxql(device)}")
        if space is not None:
            where.append(f"space = {quote_influxql(space)}")
        q = f'SELECT * FROM "{MEASUREMENT}" WHERE {" AND ".join(where)} ORDER BY time ASC'
        try:
            response = self._client.post(
                "/query", data={"q": q, "db": self._database, "epoch": "ms"}
            )
        except httpx.HTTPError as exc:
            raise HistoryUnavailable(f"InfluxDB unreachable: {exc}") from exc
        error = _statement_error(response)
        if response.status_code != 200 or error:
            raise HistoryUnavailable(f"/query HTTP {response.status_code}: {error}")
        try:
            return _points_from_result(response.json())
        except (KeyError, TypeError, ValueError) as exc:
            raise HistoryUnavailable(f"/query answer not understood: {exc!r}") from exc

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()


def _statement_error(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    if "error" in body:
        return str(body["error"])
    for result in body.get("results") or []:
        if isinstance(result, dict) and "error" in result:
            return str(result["error"])
    return None


def _points_from_result(body: dict[str, Any]) -> list[PresencePoint]:
    points: list[PresencePoint] = []
    for result in body.get("results") or []:
        for series in result.get("series") or []:
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
                    )
                )
    points.sort(key=lambda p: (p.time_ms, p.device))
    return points
