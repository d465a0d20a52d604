"""The one HTTP client of InfluxDB's v1-compatible API: credential, quoting, answers, policies.

Every process that talks to InfluxDB goes through :class:`InfluxClient`: the
gateway's store, the backend's facility reader, its health and metrics probes
and privacy report, and ``werkplek influx init``. The credential is a token
(``Authorization: Token``, InfluxDB 2.x/3) or a user with password (basic auth,
1.x); identifiers and string literals are quoted here and nowhere else; an
unreachable server or a refused read is :class:`~history.errors.HistoryUnavailable`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from history.errors import HistoryUnavailable

if TYPE_CHECKING:
    from history.settings import HistorySettings


def influx_ident(name: str) -> str:
    """Quote an identifier (database, policy, user) for InfluxQL."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_influxql(value: str) -> str:
    """Quote a string literal for InfluxQL."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def statement_error(response: httpx.Response) -> str | None:
    """The error InfluxDB put in an answer's body (top level or in a result), if any."""
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


@dataclass(frozen=True, slots=True)
class Policies:
    """The answer to ``SHOW RETENTION POLICIES``: the rows, or why they could not be read.

    ``reachable`` is False only when the server did not answer at all; ``error``
    is None when the rows were read; ``version`` is the server's
    ``X-Influxdb-Version`` (retention policies exist as such only on 1.x).
    """

    rows: tuple[dict[str, Any], ...] = ()
    error: str | None = None
    reachable: bool = True
    version: str = ""

    @property
    def names(self) -> set[str]:
        """The policies' names."""
        return {str(row.get("name")) for row in self.rows}


class InfluxClient:
    """One database on one InfluxDB server, with one credential; safe to share between threads."""

    def __init__(
        self,
        url: str,
        database: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Token {token}"} if token else {}
        auth = httpx.BasicAuth(username, password or "") if username else None
        self.url = url
        self.database = database
        self.http = httpx.Client(
            base_url=url, headers=headers, auth=auth, timeout=timeout_s, transport=transport
        )

    @classmethod
    def from_settings(cls, cfg: HistorySettings, *, timeout_s: float = 10.0) -> InfluxClient:
        """The client of the configured InfluxDB (``cfg.influx_url`` must be set)."""
        if not cfg.influx_url:
            raise ValueError("no InfluxDB configured (WERKPLEK_INFLUX_URL is not set)")
        token, password = cfg.influx_token, cfg.influx_password
        return cls(
            cfg.influx_url,
            cfg.influx_database,
            token=token.get_secret_value() if token else None,
            username=cfg.influx_username,
            password=password.get_secret_value() if password else None,
            timeout_s=timeout_s,
        )

    def __enter__(self) -> InfluxClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def version(self) -> str | None:
        """The server's version from ``/ping`` ("" when it does not say); None without answer."""
        try:
            return str(self.http.get("/ping").headers.get("X-Influxdb-Version", ""))
        except httpx.HTTPError:
            return None

    def post_query(self, q: str, *, read: bool = True) -> httpx.Response:
        """POST one InfluxQL statement to ``/query`` (``read``: in the database, times in ms).

        Raises:
            HistoryUnavailable: the server did not answer.
        """
        data = {"q": q, "db": self.database, "epoch": "ms"} if read else {"q": q}
        try:
            return self.http.post("/query", data=data)
        except httpx.HTTPError as exc:
            raise HistoryUnavailable(f"InfluxDB unreachable: {exc}") from exc

    def query(self, q: str, *, in_database: bool = True) -> list[dict[str, Any]]:
        """Run a statement and return the series of every result.

        Each series has ``name``, ``tags`` (with GROUP BY), ``columns`` and ``values``;
        ``in_database`` False runs a server-wide statement (``SHOW CONTINUOUS QUERIES``).

        Raises:
            HistoryUnavailable: unreachable, refused (the server's reason is in the
                message), or an answer that is not InfluxDB's JSON.
        """
        response = self.post_query(q, read=in_database)
        try:
            body = response.json()
        except ValueError as exc:
            raise HistoryUnavailable(
                f"InfluxDB answer not understood (HTTP {response.status_code}): "
                f"{response.text[:200]}"
            ) from exc
        error = statement_error(response)
        if response.status_code != 200 or error is not None or not isinstance(body, dict):
            raise HistoryUnavailable(
                f"InfluxDB refused the query (HTTP {response.status_code}): "
                f"{error or response.text[:300]}"
            )
        return [
            series
            for result in body.get("results") or []
            if isinstance(result, dict)
            for series in result.get("series") or []
        ]

    def statement(self, q: str) -> str | None:
        """Run one management statement; returns its error text, None on success.

        Raises:
            HistoryUnavailable: the server did not answer or failed (HTTP 5xx).
        """
        response = self.post_query(q, read=False)
        if response.status_code >= 500:
            raise HistoryUnavailable(f"{q.split(' ON ')[0]}: HTTP {response.status_code}")
        error = statement_error(response)
        if response.status_code >= 400 and error is None:
            error = f"HTTP {response.status_code}: {response.text[:200]}"
        return error

    def write(
        self, body: bytes, *, retention_policy: str | None = None, gzipped: bool = False
    ) -> httpx.Response:
        """POST line protocol (``precision=ms``) to ``/write``; the caller judges the status.

        Raises:
            HistoryUnavailable: the server did not answer.
        """
        params = {"db": self.database, "precision": "ms"}
        if retention_policy is not None:
            params["rp"] = retention_policy
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        try:
            return self.http.post("/write", params=params, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise HistoryUnavailable(f"InfluxDB unreachable: {exc}") from exc

    def retention_policies(self) -> Policies:
        """The database's retention policies as the server reports them; never raises."""
        try:
            response = self.post_query(
                f"SHOW RETENTION POLICIES ON {influx_ident(self.database)}", read=False
            )
            body = response.json()
        except (HistoryUnavailable, ValueError) as exc:  # no answer, or not InfluxDB's
            reason = str(exc).removeprefix("InfluxDB unreachable: ")
            return Policies(error=f"InfluxDB unreachable ({reason})", reachable=False)
        version = response.headers.get("X-Influxdb-Version", "")
        error = statement_error(response)
        if response.status_code != 200 or error is not None or not isinstance(body, dict):
            return Policies(error=error or f"HTTP {response.status_code}", version=version)
        rows = [
            dict(zip(series.get("columns") or [], values, strict=False))
            for result in body.get("results") or []
            for series in result.get("series") or []
            for values in series.get("values") or []
        ]
        return Policies(tuple(rows), version=version)

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()
