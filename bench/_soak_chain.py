"""The chain the soak runs: private Mosquitto, InfluxDB and PostgreSQL, the gateway and the
backend as separate processes, each killable with SIGKILL and restartable.

The broker is the tests' private Mosquitto (``tests.services.Mosquitto``): one
services-style listener without the device listener's identity binding, so a
connection may carry a group of simulated nodes. Everything else is as deployed:
``python -m gateway`` and ``python -m werkplek backend`` configured through
``WERKPLEK_*`` variables.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import time as clock
from pathlib import Path

import httpx

from tests.services import InfluxDB, Mosquitto, PostgreSQL, free_port, wait_until

SITE = "sk"
FLOOR_SIZE = 100  # spaces per floor: one probe each, screens pick a floor


@dataclass
class Building:
    """What was seeded: floors with their probe space, screen tokens, people's sessions."""

    floors: list[tuple[str, str]]
    devices: dict[str, tuple[str, str]]  # device -> (space, role)
    screen_tokens: list[str]
    sessions: list[str]


def seed(url: str, roles: list[str], screens: int, people: int, grace_s: int) -> Building:
    """Create the building (one node per desk), screen tokens and people with sessions."""
    from backend.auth import service as auth_service
    from backend.bookings import policy as policies
    from backend.bookings.schemas import OpeningDay, PolicyPublic
    from backend.database import create_all, make_engine, make_session_factory
    from backend.people import service as people_service
    from backend.spaces.models import Device, Floor, Site, Space

    floors = (len(roles) + FLOOR_SIZE - 1) // FLOOR_SIZE
    engine = make_engine(url)
    create_all(engine)
    devices: dict[str, tuple[str, str]] = {}
    with make_session_factory(engine)() as session:
        session.add(Site(id=SITE, name="Soak", kind="central_office"))
        session.flush()
        session.add_all(
            Floor(id=f"{SITE}-{f}", site_id=SITE, name=f"V{f}", level=f, plan_width=1,
                  plan_height=1)
            for f in range(floors)
        )  # fmt: skip
        session.flush()
        for n, role in enumerate(roles):
            space = f"{SITE}.{n // FLOOR_SIZE}.d-{n:04d}"
            session.add(Space(id=space, site_id=SITE, floor_id=f"{SITE}-{n // FLOOR_SIZE}",
                              kind="desk", name=f"W{n}", x=0, y=0, w=1, h=1))  # fmt: skip
            devices[f"n-{n:04d}"] = (space, role)
        session.flush()
        session.add_all(
            Device(id=d, site_id=SITE, space_id=s, source="radar", heartbeat_s=60)
            for d, (s, _) in devices.items()
        )
        days = [OpeningDay(weekday=d, opens=clock(0), closes=clock(23, 59)) for d in range(7)]
        policies.set_opening_hours(session, SITE, days, "soak")
        rules = PolicyPublic(advance_days=30, one_desk_per_day=False, desk_grace_s=grace_s)
        policies.set_policy(session, SITE, rules, "soak")
        session.commit()
        tokens = [
            auth_service.create_token(session, "signage", f"soak screens {i}")
            for i in range(max(1, (screens + 24) // 25))
        ]
        sessions = []
        for i in range(people):
            user = people_service.create_user(session, username=f"p{i}", display_name=f"P{i}")
            sessions.append(people_service.issue_session(session, user, hours=4)[0])
        session.commit()
    engine.dispose()
    probes = [d for d, (_, role) in devices.items() if role == "probe"]
    floor_probes = [(f"{SITE}-{int(devices[d][0].split('.')[1])}", devices[d][0]) for d in probes]
    return Building(floor_probes, devices, tokens, sessions)


def rss_kib(pid: int) -> int:
    """Proportional set size of one process (shared pages split among their users), KiB."""
    return sum(memory_kib(pid))


def memory_kib(pid: int) -> tuple[int, int]:
    """What one process holds, KiB: (heap and shared memory, file pages mapped), as PSS.

    The first is what a leak would grow: anonymous memory and shared memory
    (PostgreSQL's buffers), which the kernel cannot take back without swap. The
    second is file pages mapped into the process, mostly InfluxDB's own data
    files: page cache, which grows with the data and which the kernel drops when
    it needs the memory. The soak judges the first and prints the second.
    """
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    fields = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("Pss", "Pss_File"):
            fields[name] = int(rest.split()[0])
    pss, file_kib = fields.get("Pss", 0), fields.get("Pss_File", 0)
    return pss - file_kib, file_kib


def children(pid: int) -> list[int]:
    """Direct children of a process."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    with contextlib.suppress(OSError):
        return [int(p) for p in path.read_text().split()]
    return []


@dataclass
class Chain:
    """All five services; ``kill_and_restart(name)`` is one crash and recovery."""

    workdir: Path
    broker: Mosquitto = field(init=False)
    influx: InfluxDB = field(init=False)
    pg: PostgreSQL = field(init=False)
    http_port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    db_url: str = ""
    screens_max: int = 1000

    def __post_init__(self) -> None:
        self.broker = Mosquitto(workdir=self.workdir / "mosquitto")
        self.influx = InfluxDB(workdir=self.workdir / "influxdb")
        self.pg = PostgreSQL(workdir=self.workdir / "postgres")

    def start_stores(self) -> None:
        """Broker, InfluxDB (with the gateway's database) and PostgreSQL."""
        self.broker.start()
        self.influx.start()
        self.influx.query('CREATE DATABASE "soak"')
        self.pg.start()
        self.db_url = self.pg.url

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WERKPLEK_")}
        env.update(
            WERKPLEK_MQTT_URL=self.broker.url,
            WERKPLEK_LOG_FORMAT="text",
            WERKPLEK_INFLUX_URL=self.influx.url,
            WERKPLEK_INFLUX_DATABASE="soak",
            WERKPLEK_GATEWAY_ID="soak",
            WERKPLEK_STATE_DIR=str(self.workdir / "gateway"),
            WERKPLEK_HISTORY_PATH=str(self.workdir / "gateway" / "history.sqlite3"),
            WERKPLEK_DATABASE_URL=self.db_url,
            WERKPLEK_HTTP_PORT=str(self.http_port),
            WERKPLEK_MQTT_CLIENT_ID="soak-backend",
            WERKPLEK_SSE_MAX_CLIENTS=str(self.screens_max),
            WERKPLEK_BOOKING_CHECK_S="2",
        )
        return env

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - closed below
        self.procs[name] = subprocess.Popen(
            [sys.executable, *args], env=self._env(), stdout=log, stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parent.parent,
        )  # fmt: skip
        log.close()

    @property
    def base(self) -> str:
        """The backend's base URL."""
        return f"http://127.0.0.1:{self.http_port}"

    def backend_up(self) -> bool:
        """The backend answers ``/healthz``."""
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200
        return False

    def gateway_up(self) -> bool:
        """The gateway's health file says its broker link is up."""
        import json

        with contextlib.suppress(OSError, ValueError):
            report = json.loads((self.workdir / "gateway" / "gateway-health.json").read_text())
            return bool(report.get("mqtt", {}).get("connected", report.get("connected")))
        return False

    def start_backend(self) -> None:
        """Start the backend process and wait until it answers."""
        self._spawn("backend", ["-m", "werkplek", "backend"])
        wait_until(self.backend_up, 60, interval=0.1, what="backend answering /healthz")

    def start_gateway(self) -> None:
        """Start the gateway process and wait until its health file says the broker link is up.

        The file is written before the first connection, so its existence alone is
        not "up" (on the loaded machine the link came ~9 s later).
        """
        health = self.workdir / "gateway" / "gateway-health.json"
        health.unlink(missing_ok=True)
        self._spawn("gateway", ["-m", "gateway"])
        wait_until(self.gateway_up, 60, interval=0.1, what="gateway connected to the broker")

    def kill_and_restart(self, name: str) -> tuple[float, float]:
        """SIGKILL one service and start it again; return (kill time, up-again time)."""
        killed = time.time()
        if name in self.procs:
            self.procs[name].kill()
            self.procs[name].wait(10)
            (self.start_gateway if name == "gateway" else self.start_backend)()
        elif name == "broker":
            self.broker.kill()
            self.broker.start()
        elif name == "influxdb":
            self.influx.kill()
            self.influx.start()
        elif name == "postgresql":
            self.pg.kill()
            self.pg.resume()
        else:
            raise ValueError(f"unknown service {name!r}")
        return killed, time.time()

    def pids(self) -> dict[str, list[int]]:
        """Process ids per service (PostgreSQL: the postmaster and its backends)."""
        out: dict[str, list[int]] = {}
        for name, proc in self.procs.items():
            out[name] = [proc.pid] if proc.poll() is None else []
        out["broker"] = [self.broker.proc.pid] if self.broker.proc else []
        out["influxdb"] = [self.influx.proc.pid] if self.influx.proc else []
        master = self.pg.postmaster_pid()
        out["postgresql"] = [master, *children(master)] if master else []
        return out

    def stop(self) -> None:
        """Stop everything (children first, then the stores)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        self.broker.stop()
        self.influx.stop()
        self.pg.stop()


class MemoryWatch:
    """Samples each service's memory every ``interval`` seconds in a thread."""

    def __init__(self, chain: Chain, interval: float = 2.0) -> None:
        self.chain = chain
        self.interval = interval
        #: Heap and shared memory per service (judged), and mapped file pages (shown).
        self.samples: dict[str, list[tuple[float, int]]] = {}
        self.file_samples: dict[str, list[tuple[float, int]]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            now = time.time()
            for name, pids in self.chain.pids().items():
                parts = [memory_kib(pid) for pid in pids]
                held, mapped = sum(h for h, _ in parts), sum(f for _, f in parts)
                if held:
                    self.samples.setdefault(name, []).append((now, held))
                    self.file_samples.setdefault(name, []).append((now, mapped))

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join(10)
