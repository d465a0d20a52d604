"""Private instances of the real services the tests talk to.

Each service runs from the machine's own binaries on a free loopback port in
a temporary folder, so tests never depend on (or disturb) a server that
happens to be running, and can stop and restart their instance at will. A
missing binary is an error with a clear message, never a skip: `make test`
installs the Debian packages before pytest starts.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx


class ServiceError(RuntimeError):
    """A test service could not be found or started."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now.

    Under pytest-xdist each worker takes only ports whose half (Linux hands out
    ports of one parity for ``bind``) has its own index as remainder modulo the
    number of workers, so two workers starting services at the same moment are
    never handed the same port.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ...
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    # A worker pytest-xdist starts in place of a crashed one gets the next number
    # (gw4 of 4): modulo keeps it on a slot instead of never matching any port.
    index = int(worker[2:]) % workers if worker[2:].isdigit() else 0
    for _ in range(100 * workers):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if (port // 2) % workers == index:
            return port
    raise ServiceError(f"no free port for pytest worker {worker} of {workers}")


def _start_until_bound(
    name: str,
    logfile: Path,
    launch: Callable[[], subprocess.Popen[bytes]],
    up: Callable[[], bool],
    new_ports: Callable[[], None] | None,
    timeout: float,
) -> None:
    """Launch a service until it is ``up``; start it again when a port was taken.

    A port that was free when picked can be taken before the service binds it (any
    process's outgoing connection takes its local port from the same range). Then the
    service exits with "address already in use" and is launched again: on new ports
    (``new_ports``) at the first start, on the same ports a second later after a
    restart (``new_ports`` None: clients know the ports by then). Any other exit, and a
    service neither up nor gone within ``timeout``, is an error with its log.
    """
    for attempt in range(10):
        seen = logfile.stat().st_size if logfile.exists() else 0
        proc = launch()
        try:
            wait_until(
                lambda: proc.poll() is not None or up(),  # noqa: B023 - called at once
                timeout,
                interval=0.1,
                what=f"{name} up or gone",
            )
        except TimeoutError as exc:
            text = logfile.read_text(errors="replace") if logfile.exists() else ""
            raise ServiceError(f"{name} did not start: {text[-2000:]}") from exc
        if proc.poll() is None:
            return
        said = logfile.read_bytes()[seen:].decode(errors="replace") if logfile.exists() else ""
        if "address already in use" not in said.lower() or attempt == 9:
            raise ServiceError(f"{name} exited ({proc.returncode}): {said[-2000:]}")
        if new_ports is None:
            time.sleep(1.0)
        else:
            new_ports()


def wait_until(
    predicate: Callable[[], object], timeout: float, interval: float = 0.02, what: str = ""
) -> float:
    """Poll ``predicate`` until it is truthy; return the seconds it took.

    Raises:
        TimeoutError: the predicate stayed falsy for ``timeout`` seconds.
    """
    start = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"not true within {timeout:.1f} s: {what}")
        time.sleep(interval)


def port_open(host: str, port: int) -> bool:
    """Return True when something accepts TCP connections on ``host:port``."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
        return True
    return False


def require_binary(name: str, *candidates: str) -> str:
    """Find an executable on PATH (or at one of ``candidates``) or fail clearly."""
    found = shutil.which(name)
    if found:
        return found
    for path in candidates:
        if os.access(path, os.X_OK):
            return path
    raise ServiceError(
        f"{name!r} is not installed. Run the tests with `make test`, which installs "
        f"what they need (Debian packages mosquitto, influxdb, chromium, postgresql)."
    )


def _stop_process(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


@dataclass
class Mosquitto:
    """A private Mosquitto broker with persistence, restartable on the same port."""

    workdir: Path
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    proc: subprocess.Popen[bytes] | None = None
    #: A ``werkplek pki`` folder (ca.crt, broker.crt, broker.key): adds a TLS listener.
    tls_dir: Path | None = None
    tls_port: int = field(default_factory=free_port)
    #: Set by the first successful start: from then on clients know the ports.
    _ports_taken: bool = False

    @property
    def url(self) -> str:
        """The broker URL in the form the settings accept."""
        return f"mqtt://{self.host}:{self.port}"

    @property
    def tls_url(self) -> str:
        """The TLS listener's URL; ``localhost`` is the name its certificate carries."""
        return f"mqtts://localhost:{self.tls_port}"

    def _tls_listener(self, owner: str | None) -> list[str]:
        """Copy the broker's key and certificates next to its config; the listener's lines."""
        if self.tls_dir is None:
            return []
        files = self.workdir / "tls"
        files.mkdir(exist_ok=True)
        for name in ("ca.crt", "broker.crt", "broker.key"):
            shutil.copyfile(self.tls_dir / name, files / name)
            if owner:  # the key stays 0600, readable by the broker's account only
                shutil.chown(files / name, owner, owner)
        (files / "broker.key").chmod(0o600)
        return [
            f"listener {self.tls_port} {self.host}",
            f"cafile {files}/ca.crt",
            f"certfile {files}/broker.crt",
            f"keyfile {files}/broker.key",
            "tls_version tlsv1.2",
        ]

    def _write_config(self) -> Path:
        conf = self.workdir / "mosquitto.conf"
        run_as: list[str] = []
        owner = None
        if os.geteuid() == 0:
            # As root Mosquitto drops to the 'mosquitto' account, which must own its files.
            try:
                shutil.chown(self.workdir, "mosquitto", "mosquitto")
                run_as = ["user mosquitto"]
                owner = "mosquitto"
            except (LookupError, OSError):
                run_as = ["user root"]
        conf.write_text(
            "\n".join(
                [
                    *run_as,
                    f"listener {self.port} {self.host}",
                    *self._tls_listener(owner),
                    "allow_anonymous true",
                    "persistence true",
                    f"persistence_location {self.workdir}/",
                    "autosave_interval 1",
                    "max_queued_messages 1000000",
                    "max_inflight_messages 100",
                    # Nagle's algorithm would add ~40 ms to every small retained hop.
                    "set_tcp_nodelay true",
                    f"log_dest file {self.workdir}/mosquitto.log",
                    "log_type error",
                    "log_type warning",
                    "log_type notice",
                    "",
                ]
            )
        )
        return conf

    def start(self) -> None:
        """Start the broker and wait until it accepts connections.

        A port taken between picking and binding starts it again (``_start_until_bound``).
        """
        binary = require_binary("mosquitto", "/usr/sbin/mosquitto")
        self.workdir.mkdir(parents=True, exist_ok=True)

        def launch() -> subprocess.Popen[bytes]:
            conf = self._write_config()
            self.proc = subprocess.Popen(
                [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            return self.proc

        def new_ports() -> None:
            self.port, self.tls_port = free_port(), free_port()

        _start_until_bound(
            "mosquitto",
            self.workdir / "mosquitto.log",
            launch,
            lambda: port_open(self.host, self.port),
            None if self._ports_taken else new_ports,
            10,
        )
        self._ports_taken = True
        try:
            wait_until(lambda: port_open(self.host, self.port), 10, what="mosquitto listening")
            if self.tls_dir is not None:
                wait_until(
                    lambda: port_open(self.host, self.tls_port), 10, what="mosquitto TLS listening"
                )
        except TimeoutError as exc:
            log = self.workdir / "mosquitto.log"
            text = log.read_text() if log.exists() else ""
            raise ServiceError(f"mosquitto did not start: {text[-2000:]}") from exc

    def stop(self) -> None:
        """Stop the broker cleanly (it saves its persistence file)."""
        _stop_process(self.proc)
        self.proc = None

    def kill(self) -> None:
        """Kill the broker without letting it save anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        """Stop and start again on the same port."""
        self.stop()
        self.start()


@dataclass
class InfluxDB:
    """A private InfluxDB 1.x server speaking the v1 HTTP API."""

    workdir: Path
    port: int = field(default_factory=free_port)
    rpc_port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    proc: subprocess.Popen[bytes] | None = None
    #: ``(user, password)`` of an admin: turns authentication on, as in production.
    admin: tuple[str, str] | None = None
    #: How often InfluxDB enforces retention policies (its default is 30 minutes).
    retention_check: str = "30m0s"
    #: Set by the first successful start: from then on clients know the ports.
    _ports_taken: bool = False

    @property
    def url(self) -> str:
        """Base URL of the HTTP API."""
        return f"http://{self.host}:{self.port}"

    def _write_config(self) -> Path:
        conf = self.workdir / "influxdb.conf"
        conf.write_text(
            f"""reporting-disabled = true
bind-address = "{self.host}:{self.rpc_port}"
[meta]
  dir = "{self.workdir}/meta"
[data]
  dir = "{self.workdir}/data"
  wal-dir = "{self.workdir}/wal"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "10s"
  # As docker-compose.yml and docs/operations.md ("InfluxDB settings that matter"):
  # the index on disk, the write cache snapshotted at 1 MiB instead of 25 MiB (under
  # steady writes a shard is never cold, so the cache grew until 25 MiB), and one
  # compaction at a time (each holds its blocks in memory while it runs).
  index-version = "tsi1"
  cache-snapshot-memory-size = "1m"
  max-concurrent-compactions = 1
[http]
  enabled = true
  bind-address = "{self.host}:{self.port}"
  log-enabled = false
  auth-enabled = {"true" if self.admin else "false"}
[retention]
  check-interval = "{self.retention_check}"
[monitor]
  store-enabled = false
[continuous_queries]
  log-enabled = false
"""
        )
        return conf

    def ping(self) -> bool:
        """Return True when the server answers /ping."""
        try:
            return httpx.get(f"{self.url}/ping", timeout=0.5).status_code == 204
        except httpx.HTTPError:
            return False

    def start(self) -> None:
        """Start the server and wait until /ping answers.

        A port taken between picking and binding starts it again (``_start_until_bound``;
        the smoke test's influxd exited so once, "bind: address already in use", under
        two busy loops).
        """
        binary = require_binary("influxd", "/usr/bin/influxd")
        self.workdir.mkdir(parents=True, exist_ok=True)
        logfile = self.workdir / "influxd.log"

        def launch() -> subprocess.Popen[bytes]:
            conf = self._write_config()
            with open(logfile, "ab") as log:  # the child keeps its own descriptor
                self.proc = subprocess.Popen(
                    [binary, "-config", str(conf)], stdout=log, stderr=subprocess.STDOUT
                )
            return self.proc

        def new_ports() -> None:
            self.port, self.rpc_port = free_port(), free_port()

        _start_until_bound(
            "influxd", logfile, launch, self.ping, None if self._ports_taken else new_ports, 30
        )
        self._ports_taken = True
        if self.admin:  # the first user of a server with auth on must be an admin
            user, password = self.admin
            q = f"CREATE USER \"{user}\" WITH PASSWORD '{password}' WITH ALL PRIVILEGES"
            httpx.post(f"{self.url}/query", data={"q": q}, timeout=10).raise_for_status()

    def stop(self) -> None:
        """Stop the server."""
        _stop_process(self.proc, timeout=20)
        self.proc = None

    def kill(self) -> None:
        """Kill the server (SIGKILL): what it has not written to its WAL is gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def query(self, q: str, db: str | None = None) -> dict[str, object]:
        """Run one InfluxQL statement and return the decoded JSON answer."""
        params = {"q": q}
        if db:
            params["db"] = db
        resp = httpx.post(f"{self.url}/query", params=params, timeout=10, auth=self.admin)
        resp.raise_for_status()
        result: dict[str, object] = resp.json()
        return result

    def create_database(self) -> str:
        """Create a database with a fresh name and return the name."""
        name = "t_" + uuid.uuid4().hex[:12]
        self.query(f'CREATE DATABASE "{name}"')
        return name


@dataclass
class PostgreSQL:
    """A throwaway PostgreSQL cluster started from the installed binaries."""

    workdir: Path
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    bindir: Path | None = None

    @staticmethod
    def find_bindir() -> Path:
        """Locate initdb/pg_ctl: pg_config's answer, else the newest Debian version."""
        pg_config = shutil.which("pg_config")
        if pg_config:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
            path = Path(out.stdout.strip())
            if (path / "initdb").exists():
                return path
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if versions:
            return versions[-1].parent
        raise ServiceError(
            "PostgreSQL server binaries (initdb) are not installed; run `make test` "
            "or set WERKPLEK_TEST_DATABASE_URL to a database the tests may use."
        )

    def _run(self, args: list[str]) -> None:
        # initdb refuses to run as root, so as root the cluster belongs to 'postgres'.
        cmd = args
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *args]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise ServiceError(f"{args[0]} failed: {result.stderr[-2000:]}")

    def start(self) -> None:
        """Create and start the cluster."""
        self.bindir = self.find_bindir()
        self.workdir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres", "postgres")
        data = self.workdir / "data"
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )
        opts = (
            f"-p {self.port} -k {self.workdir} -c listen_addresses={self.host} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                opts,
                "-w",
                "-l",
                str(self.workdir / "postgres.log"),
                "start",
            ]
        )

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the default database."""
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/postgres"

    def postmaster_pid(self) -> int | None:
        """The running server's process id (first line of ``postmaster.pid``), if any."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.workdir / "data" / "postmaster.pid").read_text().split()[0])
        return None

    def kill(self) -> None:
        """Kill the postmaster (SIGKILL), as a crash would; its backends exit on their own."""
        pid = self.postmaster_pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def resume(self, timeout: float = 60.0) -> None:
        """Start the existing cluster again (crash recovery); retried while old backends linger."""
        assert self.bindir is not None, "start() the cluster first"
        opts = (
            f"-p {self.port} -k {self.workdir} -c listen_addresses={self.host} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        data, log = str(self.workdir / "data"), str(self.workdir / "postgres.log")
        start = [str(self.bindir / "pg_ctl"), "-D", data, "-o", opts, "-w", "-l", log, "start"]
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._run(start)
                return
            except ServiceError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def stop(self) -> None:
        """Stop the cluster immediately."""
        if self.bindir is not None:
            with contextlib.suppress(ServiceError):
                self._run(
                    [
                        str(self.bindir / "pg_ctl"),
                        "-D",
                        str(self.workdir / "data"),
                        "-m",
                        "immediate",
                        "stop",
                    ]
                )


def make_tempdir(prefix: str) -> Path:
    """A temporary folder that other users (the postgres account) may enter."""
    path = Path(tempfile.mkdtemp(prefix=f"werkplek-{prefix}-"))
    path.chmod(0o755)
    return path


@dataclass
class ConfiguredMosquitto(Mosquitto):
    """Mosquitto run with a deployment config (``deploy/mosquitto/mosquitto.conf``).

    So that security tests hold the file operators deploy, not a test double:
    its container paths (``/mosquitto/config/``, ``/mosquitto/data/``) point into
    ``workdir``, every ``listener <port>`` gets a local port (``ports`` maps the
    config's port to it; the first listener gets :attr:`port`), the log goes to a
    file. ``passwords`` maps a password file's name to its accounts (hashed by the
    real ``mosquitto_passwd``), ``files`` the other files it names (ACLs) to their
    text. ``skip_listeners`` leaves out listener blocks (up to the next blank line),
    and TLS listener blocks are left out unless ``tls`` (their certificates are
    the TLS tests' business).
    """

    config_file: Path | None = None
    passwords: dict[str, dict[str, str]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    ports: dict[int, int] = field(default_factory=dict)
    skip_listeners: tuple[int, ...] = ()
    tls: bool = False

    def url_for(self, listener: int, user: str, password: str) -> str:
        """The URL of one of the config's listeners with an account in it."""
        return f"mqtt://{user}:{password}@{self.host}:{self.ports[listener]}"

    def _owned(self, path: Path, owner: str | None) -> None:
        if owner:
            shutil.chown(path, owner, owner)

    def _write_config(self) -> Path:
        if self.config_file is None:
            raise ServiceError("ConfiguredMosquitto needs a config_file")
        owner: str | None = None
        run_as = ["user root"] if os.geteuid() == 0 else []
        if run_as:
            with contextlib.suppress(LookupError, OSError):
                shutil.chown(self.workdir, "mosquitto", "mosquitto")
                owner, run_as = "mosquitto", ["user mosquitto"]
        for name, text in self.files.items():
            (self.workdir / name).write_text(text)
            self._owned(self.workdir / name, owner)
        passwd = require_binary("mosquitto_passwd", "/usr/bin/mosquitto_passwd")
        for name, accounts in self.passwords.items():
            path = self.workdir / name
            path.unlink(missing_ok=True)
            for user, password in accounts.items():
                create = [] if path.exists() else ["-c"]
                subprocess.run(
                    [passwd, *create, "-b", str(path), user, password],
                    check=True,
                    capture_output=True,
                )
            self._owned(path, owner)
        lines = [*run_as]
        for block in self.config_file.read_text().split("\n\n"):
            settings = [ln.split() for ln in block.splitlines() if ln.strip()[:1] not in ("", "#")]
            first = settings[0] if settings else []
            if first[:1] == ["listener"] and (
                int(first[1]) in self.skip_listeners or not self.tls and "certfile" in block
            ):
                continue  # a listener block ends at a blank line in our configs
            for raw in block.splitlines():
                lines.append(self._local_line(raw))
            lines.append("")
        conf = self.workdir / "mosquitto.conf"
        conf.write_text("\n".join(lines) + "\n")
        return conf

    def _local_line(self, raw: str) -> str:
        """One config line with container paths, listener ports and the log made local."""
        words = raw.split()
        if words[:1] == ["listener"]:
            port = int(words[1])
            local = self.ports.get(port) or (free_port() if self.ports else self.port)
            self.ports[port] = local
            return f"listener {local} {self.host}"
        if words[:1] == ["log_dest"]:
            return f"log_dest file {self.workdir}/mosquitto.log"
        line = raw.replace("/mosquitto/config/", f"{self.workdir}/")
        return line.replace("/mosquitto/data/", f"{self.workdir}/")

    def start(self) -> None:
        """Start the broker and wait until every listener accepts connections."""
        super().start()
        for port in self.ports.values():
            wait_until(partial(port_open, self.host, port), 10, what=f"mosquitto on {port}")
