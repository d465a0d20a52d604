"""``werkplek influx init``: create Werkplek's InfluxDB 1.x schema and users, once, as admin.

The gateway, the backend and Grafana run with least-privilege users that may
not create databases, retention policies or continuous queries. This command
does that with an admin credential, and may run again at any time with the same
result (policies are altered to the settings, queries and users replaced):

- the database, with retention policies ``raw`` (default, ``WERKPLEK_RAW_RETENTION_DAYS``),
  ``hourly`` (``WERKPLEK_HOURLY_RETENTION_DAYS``) and ``facility`` (the backend's rollup);
- the continuous queries that roll raw presence and telemetry up per hour;
- the users: gateway (READ and WRITE: it writes history and reads it back),
  backend (READ and WRITE: it writes the facility rollup), Grafana (READ only).

InfluxDB 2.x and 3 have buckets instead; the command then says what to do there.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import httpx
from pydantic import SecretStr, ValidationError

from history.errors import HistoryUnavailable
from history.facility import ROLLUP_RP, ROLLUP_SHARD
from history.influx import InfluxHistory
from history.influx_client import InfluxClient, influx_ident, quote_influxql, statement_error
from history.retention import HOURLY_RP, RAW_RP
from history.settings import HistorySettings


class InitError(RuntimeError):
    """The schema could not be set up; the message says why."""


class InfluxInitSettings(HistorySettings):
    """What ``werkplek influx init`` reads from ``WERKPLEK_*`` variables.

    The address, database and retention periods are the shared
    :class:`history.settings.HistorySettings` (the same the services check
    against); the admin and per-service credentials are this command's own.
    """

    influx_url: str | None = "http://127.0.0.1:8086"
    influx_admin_username: str = "admin"
    influx_admin_password: SecretStr | None = None
    influx_gateway_username: str = "gateway"
    influx_gateway_password: SecretStr | None = None
    influx_backend_username: str = "backend"
    influx_backend_password: SecretStr | None = None
    influx_grafana_username: str = "grafana"
    influx_grafana_password: SecretStr | None = None

    @property
    def url(self) -> str:
        """The server's address (unset or empty means this machine's default port)."""
        return self.influx_url or "http://127.0.0.1:8086"


def v2_instructions(version: str, cfg: InfluxInitSettings) -> str:
    """What to do on InfluxDB 2.x or 3, where retention lives on buckets."""
    db = cfg.influx_database
    raw = f"{cfg.raw_retention_days}d" if cfg.raw_retention_days else "0"
    hourly = f"{cfg.hourly_retention_days}d" if cfg.hourly_retention_days else "0"
    return (
        f"InfluxDB {version} keeps retention on buckets and has no continuous queries, so "
        "this command changes nothing there. Do this instead (influx CLI, as an operator):\n"
        f"  1. influx bucket create --name {db} --retention {raw}\n"
        f"  2. influx bucket create --name {db}_hourly --retention {hourly}\n"
        f"  3. influx v1 dbrp create --db {db} --rp {RAW_RP} --bucket-id <id of {db}> --default\n"
        f"     influx v1 dbrp create --db {db} --rp {HOURLY_RP} --bucket-id <id of {db}_hourly>\n"
        f"     influx bucket create --name {db}_facility --retention 0 and map it as "
        f"--rp {ROLLUP_RP}\n"
        "  4. an InfluxDB task that writes the hourly mean of presence.occupied per site, floor,\n"
        f"     zone, space and kind into {db}_hourly as presence_hourly (see docs/operations.md)\n"
        "  5. tokens: gateway read+write on the first bucket; backend read on all three and write\n"
        "     on the facility bucket; Grafana read only. Set WERKPLEK_INFLUX_TOKEN per service.\n"
    )


class InfluxInit:
    """Runs the statements with the admin credential and reports each step."""

    def __init__(
        self, cfg: InfluxInitSettings, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.cfg = cfg
        password = cfg.influx_admin_password
        self._client = InfluxClient(
            cfg.url,
            cfg.influx_database,
            username=cfg.influx_admin_username,
            password=password.get_secret_value() if password else "",
            timeout_s=30,
            transport=transport,
        )
        self.done: list[str] = []

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def version(self) -> str:
        """The server's version from ``/ping``."""
        version = self._client.version()
        if version is None:
            raise InitError(f"InfluxDB at {self.cfg.url} unreachable")
        return version

    def statement(self, q: str, *, tolerate: str | None = None) -> str | None:
        """Run one statement as admin; an error other than ``tolerate`` is fatal."""
        shown = q.split(" WITH ")[0]  # never the password
        try:
            response = self._client.post_query(q, read=False)
            response.json()
        except (HistoryUnavailable, ValueError) as exc:
            raise InitError(f"InfluxDB did not answer {shown!r}: {exc}") from exc
        error = statement_error(response)
        if response.status_code == 401 or (error and "authoriz" in str(error)):
            raise InitError(
                "the admin credential was refused: set WERKPLEK_INFLUX_ADMIN_USERNAME and "
                f"WERKPLEK_INFLUX_ADMIN_PASSWORD to an InfluxDB admin user ({error})"
            )
        if error and not (tolerate and tolerate in str(error)):
            raise InitError(f"{shown}: {error}")
        return str(error) if error else None

    def run(self) -> list[str]:
        """Create or update everything; return what was done, one line per step."""
        cfg = self.cfg
        self.statement("SHOW USERS")  # admin only: a wrong credential stops here, clearly
        history = InfluxHistory(
            cfg.url,
            cfg.influx_database,
            username=cfg.influx_admin_username,
            password=cfg.influx_admin_password.get_secret_value()
            if cfg.influx_admin_password
            else "",
            raw_retention_days=cfg.raw_retention_days,
            hourly_retention_days=cfg.hourly_retention_days,
        )
        try:
            history.ensure_schema()
        finally:
            history.close()
        if history.schema_problems:
            raise InitError("; ".join(history.schema_problems))
        if history.retention.ok is not True:
            raise InitError(f"retention still not in place: {history.retention.reason}")
        db = influx_ident(cfg.influx_database)
        self.done.append(f"database {cfg.influx_database}: {history.retention.reason}")
        self.done.append("continuous queries presence_hourly, telemetry_hourly")
        spec = (
            f"{influx_ident(ROLLUP_RP)} ON {db} DURATION INF REPLICATION 1 "
            f"SHARD DURATION {ROLLUP_SHARD}"
        )
        if self.statement(f"CREATE RETENTION POLICY {spec}", tolerate="already exists"):
            self.statement(f"ALTER RETENTION POLICY {spec}")
        self.done.append(f"retention policy {ROLLUP_RP} (facility rollup, kept)")
        users = (
            (cfg.influx_gateway_username, cfg.influx_gateway_password, "ALL"),
            (cfg.influx_backend_username, cfg.influx_backend_password, "ALL"),
            (cfg.influx_grafana_username, cfg.influx_grafana_password, "READ"),
        )
        for name, password, privilege in users:
            if password is None:
                self.done.append(f"user {name}: skipped (no password set)")
                continue
            self._user(name, password.get_secret_value(), privilege)
        return self.done

    def _user(self, name: str, password: str, privilege: str) -> None:
        """Create or update one non-admin user with exactly ``privilege`` on the database."""
        user, db = influx_ident(name), influx_ident(self.cfg.influx_database)
        secret = quote_influxql(password)
        if self.statement(f"CREATE USER {user} WITH PASSWORD {secret}", tolerate="already exists"):
            self.statement(f"SET PASSWORD FOR {user} = {secret}")
        self.statement(f"REVOKE ALL PRIVILEGES FROM {user}")  # never an admin
        self.statement(f"REVOKE ALL ON {db} FROM {user}")
        self.statement(f"GRANT {privilege} ON {db} TO {user}")
        shown = "READ and WRITE" if privilege == "ALL" else privilege
        self.done.append(f"user {name}: {shown} on {self.cfg.influx_database}")


def cmd_influx(args: argparse.Namespace) -> int:
    """Run ``werkplek influx init``; exit 1 with the reason when it fails, 2 on InfluxDB 2.x/3."""
    try:
        cfg = InfluxInitSettings()
    except ValidationError as exc:
        print(f"werkplek influx init: invalid settings: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    init = InfluxInit(cfg)
    try:
        version = init.version()
        if not version.lstrip("v").startswith("1."):
            print(v2_instructions(version or "(unknown version)", cfg), file=sys.stderr)  # noqa: T201
            return 2
        for line in init.run():
            print(f"ok  {line}")  # noqa: T201 - the operator reads this
    except InitError as exc:
        print(f"werkplek influx init: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    finally:
        init.close()
    return 0


def add_cli(sub: Any) -> None:
    """Register ``werkplek influx init`` on the CLI's subparsers."""
    influx = sub.add_parser(
        "influx", help="create the InfluxDB database, retention, rollups and users (as admin)"
    )
    influx.add_argument("action", choices=["init"])
    influx.set_defaults(func=cmd_influx)
