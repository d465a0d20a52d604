"""The stores `werkplek backup` saves, each with its owner's tool: PostgreSQL, InfluxDB, files.

PostgreSQL through ``pg_dump``/``pg_restore`` (custom format, no owner names, so
the database's non-superuser owner can restore); InfluxDB 1.x through ``influxd
backup/restore -portable`` over its backup port; the broker's persistence and the
gateway's state folder as copies, SQLite files through SQLite's online backup.
Each ``backup_*`` returns the manifest entry of its part; counts are what a
restore is checked against.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

from history.errors import HistoryUnavailable
from history.influx_client import InfluxClient, influx_ident
from history.settings import HistorySettings

#: Files of the gateway's state folder that describe the running process, not data.
VOLATILE = {"gateway-health.json"}


class BackupError(RuntimeError):
    """A backup or restore step failed; the message says which and why."""


class BackupSettings(HistorySettings):
    """Where the stores are; the same ``WERKPLEK_*`` names (and checks) the services use.

    The InfluxDB address, database and service credential come from the shared
    :class:`history.settings.HistorySettings`.
    """

    database_url: str = "sqlite:///var/werkplek.sqlite3"
    #: Dropping and restoring a database needs an admin (the one `werkplek influx init` uses);
    #: without its password the service credential is tried.
    influx_admin_username: str = "admin"
    influx_admin_password: SecretStr | None = None
    #: InfluxDB's backup/restore (RPC) address; default: the influx_url host, port 8088.
    influx_backup_address: str | None = None
    #: The broker's ``persistence_location`` (holds mosquitto.db).
    mosquitto_data_dir: Path | None = None
    state_dir: Path = Path("var")

    def configured(self) -> list[str]:
        """The parts this deployment has."""
        found = []
        if make_url(self.database_url).get_backend_name() == "postgresql":
            found.append("postgres")
        if self.influx_url:
            found.append("influx")
        if self.mosquitto_data_dir is not None:
            found.append("broker")
        found.append("gateway")
        return found

    def influx_rpc(self) -> str:
        """The ``-host`` argument of ``influxd backup``/``restore``."""
        if self.influx_backup_address:
            return self.influx_backup_address
        host = urlsplit(self.influx_url or "").hostname or "127.0.0.1"
        return f"{host}:8088"


def _run(args: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {(done.stderr or done.stdout)[-1500:]}")
    return done.stdout


def _binary(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))[-1:]), None
    )
    if not found:
        raise BackupError(f"{name} is not installed (Debian: postgresql-client / influxdb)")
    return found


# --- PostgreSQL ---


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection options for the client tools; the password goes in the environment, not argv."""
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)]
    if url.username:
        args += ["-U", url.username]
    env = {"PGPASSWORD": url.password} if url.password else {}
    return args, env


def pg_counts(database_url: str) -> dict[str, Any]:
    """Rows per table, the schema revision and the server version."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            tables = sorted(inspect(conn).get_table_names())
            rows = {
                t: int(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one())
                for t in tables
            }
            revision = None
            if "alembic_version" in tables:
                revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            server = conn.execute(text("SHOW server_version")).scalar()
    finally:
        engine.dispose()
    return {"rows": rows, "schema_revision": revision, "server_version": server}


def backup_postgres(settings: BackupSettings, target: Path) -> dict[str, Any]:
    """Dump the database in pg_dump's custom format."""
    url = make_url(settings.database_url)
    args, env = _pg_args(url)
    dump = _binary("pg_dump")
    _run(
        [dump, *args, "-Fc", "--no-owner", "-f", str(target / "postgres.dump"), url.database or ""],
        env,
    )
    return {
        "file": "postgres.dump",
        "tool": _run([dump, "--version"]).strip(),
        **pg_counts(settings.database_url),
    }


def restore_postgres(settings: BackupSettings, source: Path) -> None:
    """Replace the database's objects with the dump's, owned by the connecting user."""
    url = make_url(settings.database_url)
    args, env = _pg_args(url)
    _run(
        [_binary("pg_restore"), *args, "--clean", "--if-exists", "--no-owner",
         "--no-privileges", "--single-transaction", "--exit-on-error",
         "-d", url.database or "", str(source / "postgres.dump")],
        env,
    )  # fmt: skip


# --- InfluxDB ---


def _influx_client(settings: BackupSettings) -> InfluxClient:
    """The admin credential when set (drop and restore need it), else the service's."""
    admin = settings.influx_admin_password
    if admin is None:
        return InfluxClient.from_settings(settings, timeout_s=60)
    return InfluxClient(
        settings.influx_url or "",
        settings.influx_database,
        username=settings.influx_admin_username,
        password=admin.get_secret_value(),
        timeout_s=60,
    )


def _influx(settings: BackupSettings, query: str, *, db: bool = True) -> list[dict[str, Any]]:
    with _influx_client(settings) as client:
        try:
            return client.query(query, in_database=db)
        except HistoryUnavailable as exc:
            raise BackupError(f"InfluxDB did not do {query!r}: {exc}") from exc


def influx_counts(settings: BackupSettings) -> dict[str, Any]:
    """Points per retention policy and measurement (the largest field count of each)."""
    with _influx_client(settings) as client:
        read = client.retention_policies()
    if read.error is not None:
        raise BackupError(f"InfluxDB did not list its retention policies: {read.error}")
    policies = [str(row.get("name")) for row in read.rows]
    measurements = [
        r[0] for s in _influx(settings, "SHOW MEASUREMENTS") for r in s.get("values", [])
    ]
    points: dict[str, int] = {}
    for policy in policies:
        for name in measurements:
            source = f"{influx_ident(policy)}.{influx_ident(name)}"
            for series in _influx(settings, f"SELECT count(*) FROM {source}"):
                counts = [v for v in series["values"][0][1:] if isinstance(v, int)]
                if counts:
                    points[f"{policy}.{name}"] = max(counts)
    cqs = {
        row[0]: row[1]
        for s in _influx(settings, "SHOW CONTINUOUS QUERIES", db=False)
        if s.get("name") == settings.influx_database
        for row in s.get("values") or []
    }
    return {"retention_policies": sorted(policies), "points": points, "continuous_queries": cqs}


def _influx_version(settings: BackupSettings) -> str | None:
    with _influx_client(settings) as client:
        return client.version() or None


def backup_influx(settings: BackupSettings, target: Path) -> dict[str, Any]:
    """A portable backup of the one database (data, retention policies, shards)."""
    counts = influx_counts(settings)
    _run([_binary("influxd"), "backup", "-portable", "-database", settings.influx_database,
          "-host", settings.influx_rpc(), str(target / "influx")])  # fmt: skip
    return {"dir": "influx", "database": settings.influx_database,
            "server_version": _influx_version(settings), **counts}  # fmt: skip


def restore_influx(settings: BackupSettings, source: Path, manifest: dict[str, Any]) -> None:
    """Drop the database (InfluxDB refuses to restore over one) and restore the backup.

    Continuous queries live outside a portable backup's database; they are created again
    from the manifest only when missing (the gateway also creates them at start-up).
    """
    _influx(settings, f"DROP DATABASE {influx_ident(settings.influx_database)}", db=False)
    _run([_binary("influxd"), "restore", "-portable", "-db", manifest["database"],
          "-newdb", settings.influx_database, "-host", settings.influx_rpc(),
          str(source / "influx")])  # fmt: skip
    _wait_for_restored_shards(settings)
    present = influx_counts(settings)["continuous_queries"]
    for name, statement in manifest.get("continuous_queries", {}).items():
        if name not in present:
            _influx(settings, statement, db=False)


def _wait_for_restored_shards(settings: BackupSettings, bound_s: float = 60.0) -> None:
    """Wait until InfluxDB has opened the restored shards (at most ``bound_s``).

    ``influxd restore`` returns while the server still opens the new shards (building
    their index); until then a query answers "shard is disabled" (seen on a busy
    machine). Any other error is raised at once.
    """
    deadline = time.monotonic() + bound_s
    while True:
        try:
            _influx(settings, "SHOW MEASUREMENTS")
            return
        except BackupError as exc:
            if "shard is disabled" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.5)


# --- broker persistence and gateway state ---


def _copy_tree(files: Iterable[Path], root: Path, target: Path) -> dict[str, int]:
    copied: dict[str, int] = {}
    for path in files:
        name = str(path.relative_to(root))
        out = target / name
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix in (".sqlite3", ".sqlite", ".db") and _is_sqlite(path):
            with sqlite3.connect(path) as src, sqlite3.connect(out) as dst:
                src.backup(dst)  # consistent while the gateway writes
        else:
            shutil.copy2(path, out)
        copied[name] = out.stat().st_size
    return copied


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"


def _data_files(root: Path) -> list[Path]:
    skip = ("-wal", "-shm", "-journal")
    return sorted(
        p for p in root.rglob("*")
        if p.is_file() and p.name not in VOLATILE and not p.name.endswith(skip)
    )  # fmt: skip


def backup_files(root: Path, target: Path) -> dict[str, Any]:
    """Copy a folder's data files (the broker's persistence or the gateway's state)."""
    if not root.is_dir():
        raise BackupError(f"{root} is not a folder")
    return {"dir": target.name, "files": _copy_tree(_data_files(root), root, target)}


def restore_files(source: Path, root: Path) -> None:
    """Put the saved files back; the service must be stopped (docs/operations.md)."""
    root.mkdir(parents=True, exist_ok=True)
    for path in _data_files(source):
        out = root / path.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        for stale in (out.with_name(out.name + s) for s in ("-wal", "-shm")):
            stale.unlink(missing_ok=True)  # an old WAL would be replayed over the restored file
        shutil.copy2(path, out)
        if os.geteuid() == 0:  # the service's account owns its folder and must read its files
            os.chown(out, root.stat().st_uid, root.stat().st_gid)
