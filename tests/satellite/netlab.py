"""Two network namespaces joined by a veth "line": a satellite site and the central system.

Satellite namespace: its own Mosquitto (deploy/mosquitto/site.conf's settings that
matter: persistence, a large queue, and the bridge file ``werkplek site-bridge``
generates), its live gateway (``WERKPLEK_GATEWAY_ROLE=live``), a simulated node
and a screen (``tests.satellite.actors``).

Central namespace: Mosquitto with the bridge listener of
``deploy/mosquitto/central-sites.conf`` (TLS, the site's generated password line
and ACL) behind a delaying TCP proxy, the gateway (history in SQLite) and the
backend. The test process reaches the backend over a second veth that is never cut.

The line: ``10.77.<n>.1`` (site) - ``10.77.<n>.2`` (centre), with added delay (the
proxy) and packet loss (iptables ``statistic``), cut with ``ip link set down``.
Every name (namespaces, links, address block) is unique per run; :meth:`close`
stops every process and deletes the namespaces and links, also after a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from tests.services import ServiceError, make_tempdir, require_binary, wait_until
from werkplek import pki
from werkplek.site_bridge import BridgeOptions, write_site_bridge

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
SITE = "dalfsen"
#: Ports inside the namespaces (each namespace has its own port space).
LOCAL_MQTT = 1883
BRIDGE_PORT = 8884
BROKER_TLS = 18884
HTTP_PORT = 8000


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run one command; a failure raises with its output."""
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if check and done.returncode != 0:
        raise ServiceError(f"{' '.join(args)} failed: {done.stderr.strip()}")
    return done


def _answers(base_url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"{base_url}/healthz", timeout=2).status_code < 500
    return False


def _free_block() -> int:
    """A third octet of 10.77.x.0/24 that no interface on this machine uses."""
    used = sh("ip", "-o", "-4", "addr", "show").stdout
    for _ in range(200):
        block = random.randrange(1, 255)
        if f"10.77.{block}." not in used:
            return block
    raise ServiceError("no free 10.77.x.0/24 block")


@dataclass
class NetLab:
    """The two namespaces, their processes and the line between them."""

    keepalive_s: int = 5
    delay_ms: float = 40.0
    workdir: Path = field(default_factory=lambda: make_tempdir("netlab"))
    tag: str = field(
        default_factory=lambda: f"{os.getpid() % 10000:04d}{random.randrange(256):02x}"
    )
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    admin_token: str = ""
    devices: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sat_ns, self.cen_ns = f"wps{self.tag}", f"wpc{self.tag}"
        self.line_sat, self.line_cen = f"wl{self.tag}s", f"wl{self.tag}c"
        self.mgmt_root, self.mgmt_cen = f"wm{self.tag}r", f"wm{self.tag}c"
        self.mgmt_sat_root, self.mgmt_sat = f"wn{self.tag}r", f"wn{self.tag}s"
        self.block = 0

    # -- addresses -------------------------------------------------------------------------
    @property
    def sat_ip(self) -> str:
        return f"10.77.{self.block}.1"

    @property
    def cen_ip(self) -> str:
        return f"10.77.{self.block}.2"

    @property
    def mgmt_root_ip(self) -> str:
        return f"10.77.{self.block}.5"

    @property
    def mgmt_cen_ip(self) -> str:
        return f"10.77.{self.block}.6"

    @property
    def backend_url(self) -> str:
        return f"http://{self.mgmt_cen_ip}:{HTTP_PORT}"

    @property
    def site_backend_url(self) -> str:
        """The site's own backend (its screens' signage), over the site's management link."""
        return f"http://10.77.{self.block}.10:{HTTP_PORT}"

    def ns(self, name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a command inside a namespace."""
        return sh("ip", "netns", "exec", name, *args, check=check)

    # -- set-up ----------------------------------------------------------------------------
    def build_network(self) -> None:
        """Namespaces, the line and the management link; nothing filtered yet."""
        self.block = _free_block()
        for name in (self.sat_ns, self.cen_ns):
            sh("ip", "netns", "add", name)
            self.ns(name, "ip", "link", "set", "lo", "up")
        sh("ip", "link", "add", self.line_sat, "type", "veth", "peer", "name", self.line_cen)
        sh("ip", "link", "set", self.line_sat, "netns", self.sat_ns)
        sh("ip", "link", "set", self.line_cen, "netns", self.cen_ns)
        self.ns(self.sat_ns, "ip", "addr", "add", f"{self.sat_ip}/30", "dev", self.line_sat)
        self.ns(self.cen_ns, "ip", "addr", "add", f"{self.cen_ip}/30", "dev", self.line_cen)
        self.ns(self.sat_ns, "ip", "link", "set", self.line_sat, "up")
        self.ns(self.cen_ns, "ip", "link", "set", self.line_cen, "up")
        sh("ip", "link", "add", self.mgmt_root, "type", "veth", "peer", "name", self.mgmt_cen)
        sh("ip", "link", "set", self.mgmt_cen, "netns", self.cen_ns)
        sh("ip", "addr", "add", f"{self.mgmt_root_ip}/30", "dev", self.mgmt_root)
        sh("ip", "link", "set", self.mgmt_root, "up")
        self.ns(self.cen_ns, "ip", "addr", "add", f"{self.mgmt_cen_ip}/30", "dev", self.mgmt_cen)
        self.ns(self.cen_ns, "ip", "link", "set", self.mgmt_cen, "up")
        sh("ip", "link", "add", self.mgmt_sat_root, "type", "veth", "peer", "name", self.mgmt_sat)
        sh("ip", "link", "set", self.mgmt_sat, "netns", self.sat_ns)
        sh("ip", "addr", "add", f"10.77.{self.block}.9/30", "dev", self.mgmt_sat_root)
        sh("ip", "link", "set", self.mgmt_sat_root, "up")
        self.ns(self.sat_ns, "ip", "addr", "add", f"10.77.{self.block}.10/30", "dev", self.mgmt_sat)
        self.ns(self.sat_ns, "ip", "link", "set", self.mgmt_sat, "up")

    def start(self) -> None:
        """Build everything and wait until the site's bridge is linked and data flows."""
        require_binary("mosquitto", "/usr/sbin/mosquitto")
        self.build_network()
        self._seed_database()
        self._make_certificates()
        files = write_site_bridge(
            BridgeOptions(
                SITE,
                self.cen_ip,
                BRIDGE_PORT,
                ca_file=str(self.workdir / "pki" / "ca.crt"),
                keepalive_s=self.keepalive_s,
                restart_s=(1, 2),
            ),
            self.workdir / "bridge",
        )
        self._start_central_broker(files.passwd.read_text(), files.acl.read_text())
        self.spawn(
            "proxy",
            self.cen_ns,
            [PYTHON, "-m", "tests.satellite.actors", "proxy", "--host", self.cen_ip]
            + ["--port", str(BRIDGE_PORT), "--to-port", str(BROKER_TLS)]
            + ["--delay-ms", str(self.delay_ms)],
        )
        self._start_site_broker(files.bridge.read_text())
        self.spawn(
            "gateway",
            self.cen_ns,
            [PYTHON, "-m", "gateway"],
            self._gateway_env("gw-central", "all"),
        )
        self.spawn(
            "backend",
            self.cen_ns,
            [PYTHON, "-m", "werkplek", "backend"],
            {
                "WERKPLEK_DATABASE_URL": f"sqlite:///{self.workdir}/werkplek.sqlite3",
                "WERKPLEK_MQTT_URL": f"mqtt://127.0.0.1:{LOCAL_MQTT}",
                "WERKPLEK_HTTP_HOST": self.mgmt_cen_ip,
                "WERKPLEK_HTTP_PORT": str(HTTP_PORT),
                "WERKPLEK_STALE_CHECK_S": "0.5",
                "WERKPLEK_HISTORY_PATH": str(self.workdir / "gw-central" / "history.sqlite3"),
            },
        )
        self.spawn(
            "site-gateway",
            self.sat_ns,
            [PYTHON, "-m", "gateway"],
            self._gateway_env("gw-site", "live"),
        )
        # The site's screens: a backend at the site on the site's broker, with a copy of
        # the registry database (its signage page and API read the local live state).
        self.spawn(
            "site-backend",
            self.sat_ns,
            [PYTHON, "-m", "werkplek", "backend"],
            {
                "WERKPLEK_DATABASE_URL": f"sqlite:///{self.workdir}/site.sqlite3",
                "WERKPLEK_MQTT_URL": f"mqtt://127.0.0.1:{LOCAL_MQTT}",
                "WERKPLEK_HTTP_HOST": f"10.77.{self.block}.10",
                "WERKPLEK_HTTP_PORT": str(HTTP_PORT),
                "WERKPLEK_STALE_CHECK_S": "0.5",
                "WERKPLEK_HISTORY_PATH": str(self.workdir / "gw-site" / "history.sqlite3"),
            },
        )
        for url in (self.backend_url, self.site_backend_url):
            wait_until(partial(_answers, url), 60, 0.3, what=f"backend at {url} answering")

    def _seed_database(self) -> None:
        from backend.auth import service as auth_service
        from backend.database import create_all, make_engine, make_session_factory
        from backend.seed import seed_demo

        engine = make_engine(f"sqlite:///{self.workdir}/werkplek.sqlite3")
        try:
            create_all(engine)
            with make_session_factory(engine)() as session:
                seed_demo(session)
                self.admin_token = auth_service.create_token(session, "admin", "netlab")
            with engine.connect() as conn:
                from sqlalchemy import text

                rows = conn.execute(
                    text("SELECT id, space_id FROM device WHERE site_id = :s ORDER BY id"),
                    {"s": SITE},
                ).all()
                self.devices = [(str(r[0]), str(r[1])) for r in rows]
        finally:
            engine.dispose()
        shutil.copyfile(self.workdir / "werkplek.sqlite3", self.workdir / "site.sqlite3")

    def _make_certificates(self) -> None:
        folder = self.workdir / "pki"
        pki.create_ca(folder, "Netlab test CA")
        pki.issue(folder, "broker", [self.cen_ip])

    def _gateway_env(self, gateway_id: str, role: str) -> dict[str, str]:
        state = self.workdir / gateway_id
        state.mkdir(exist_ok=True)
        return {
            "WERKPLEK_MQTT_URL": f"mqtt://127.0.0.1:{LOCAL_MQTT}",
            "WERKPLEK_GATEWAY_ID": gateway_id,
            "WERKPLEK_GATEWAY_ROLE": role,
            "WERKPLEK_STATE_DIR": str(state),
            "WERKPLEK_HISTORY_PATH": str(state / "history.sqlite3"),
        }

    def _start_central_broker(self, passwd: str, acl: str) -> None:
        folder = self.workdir / "central"
        folder.mkdir()
        (folder / "passwd-sites").write_text(passwd)
        (folder / "acl-sites").write_text(acl)
        template = (ROOT / "deploy" / "mosquitto" / "central-sites.conf").read_text()
        bridge_listener = []
        for raw in template.splitlines():
            line = raw.replace("/mosquitto/config/tls/", f"{self.workdir}/pki/")
            line = line.replace("/mosquitto/config/", f"{folder}/")
            if line.split()[:2] == ["listener", str(BRIDGE_PORT)]:
                line = f"listener {BROKER_TLS} 127.0.0.1"  # behind the delaying proxy
            bridge_listener.append(line)
        config = [
            "user root",
            "per_listener_settings true",
            f"listener {LOCAL_MQTT}",
            "allow_anonymous true",
            "",
            *bridge_listener,
            "",
            "persistence true",
            f"persistence_location {folder}/",
            "max_queued_messages 200000",
            "set_tcp_nodelay true",
            f"log_dest file {folder}/mosquitto.log",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        (folder / "mosquitto.conf").write_text("\n".join(config) + "\n")
        self.spawn(
            "central-broker", self.cen_ns, ["mosquitto", "-c", str(folder / "mosquitto.conf")]
        )

    def _start_site_broker(self, bridge: str) -> None:
        folder = self.workdir / "site"
        (folder / "conf.d").mkdir(parents=True)
        (folder / "conf.d" / f"bridge-{SITE}.conf").write_text(bridge)
        config = [
            "user root",
            f"listener {LOCAL_MQTT} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {folder}/",
            "autosave_interval 5",
            "max_queued_messages 200000",
            "set_tcp_nodelay true",
            f"include_dir {folder}/conf.d",
            f"log_dest file {folder}/mosquitto.log",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        (folder / "mosquitto.conf").write_text("\n".join(config) + "\n")
        self.spawn("site-broker", self.sat_ns, ["mosquitto", "-c", str(folder / "mosquitto.conf")])

    def spawn(
        self, name: str, namespace: str, argv: list[str], env: dict[str, str] | None = None
    ) -> None:
        """Start a process inside a namespace; its output goes to ``<workdir>/<name>.log``."""
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        self.procs[name] = subprocess.Popen(
            ["ip", "netns", "exec", namespace, *argv],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=environ,
        )
        log.close()
        time.sleep(0.2)
        if self.procs[name].poll() is not None:
            raise ServiceError(f"{name} exited at once: {self.log(name)[-2000:]}")

    def stop(self, name: str) -> None:
        """Stop one process (SIGTERM, then SIGKILL)."""
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def log(self, name: str) -> str:
        """A process's output so far (the brokers': their log files)."""
        brokers = {"site-broker": "site/mosquitto.log", "central-broker": "central/mosquitto.log"}
        path = self.workdir / brokers.get(name, f"{name}.log")
        return path.read_text(errors="replace") if path.exists() else ""

    # -- the line ----------------------------------------------------------------------------
    def set_loss(self, probability: float) -> None:
        """Drop this share of packets each way on the line (central side, both directions)."""
        for chain, flag in (("INPUT", "-i"), ("OUTPUT", "-o")):
            self.ns(self.cen_ns, "iptables", "-F", chain)
            if probability > 0:
                self.ns(
                    self.cen_ns, "iptables", "-A", chain, flag, self.line_cen, "-m", "statistic",
                    "--mode", "random", "--probability", str(probability), "-j", "DROP",
                )  # fmt: skip

    def cut(self) -> None:
        """The line goes down (the site's modem loses its link)."""
        self.ns(self.sat_ns, "ip", "link", "set", self.line_sat, "down")

    def heal(self) -> None:
        """The line comes back."""
        self.ns(self.sat_ns, "ip", "link", "set", self.line_sat, "up")

    # -- observations --------------------------------------------------------------------------
    def central_site(self) -> list[dict[str, Any]]:
        """The central backend's availability of the site's spaces."""
        return self._availability(self.backend_url)

    def local_site(self) -> list[dict[str, Any]]:
        """The site's own backend's availability of its spaces (what its screens show)."""
        return self._availability(self.site_backend_url)

    def _availability(self, base_url: str) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{base_url}/api/v1/availability",
            params={"site": SITE},
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=10,
        )
        response.raise_for_status()
        spaces: list[dict[str, Any]] = response.json()["spaces"]
        return spaces

    def stored(self) -> list[tuple[str, int]]:
        """``(device, seq)`` of every presence point the central gateway stored for the site."""
        path = self.workdir / "gw-central" / "history.sqlite3"
        if not path.exists():
            return []
        with contextlib.closing(
            sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        ) as db:
            try:
                rows = db.execute(
                    "SELECT device, seq FROM presence WHERE site = ?", (SITE,)
                ).fetchall()
            except sqlite3.OperationalError:
                return []
        return [(str(d), int(s)) for d, s in rows]

    def central_counters(self) -> dict[str, int]:
        """The central gateway's counters from its health file (``duplicate``, ...)."""
        path = self.workdir / "gw-central" / "gateway-health.json"
        with contextlib.suppress(OSError, ValueError):
            counters = json.loads(path.read_text()).get("counters", {})
            return {str(k): int(v) for k, v in counters.items() if isinstance(v, int)}
        return {}

    def screen_lines(self) -> list[dict[str, Any]]:
        """Every space state the site's screen received."""
        path = self.workdir / "screen.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]

    def sent(self) -> list[tuple[str, int]] | None:
        """``(device, seq)`` the site broker acknowledged to the node, once the node finished."""
        path = self.workdir / "sent.txt"
        text = path.read_text() if path.exists() else ""
        if not text.endswith("done\n"):
            return None
        return [(d, int(s)) for d, s in (ln.split() for ln in text.splitlines()[:-1])]

    def start_node(self, rate: float, devices: list[str]) -> None:
        self.spawn(
            "node",
            self.sat_ns,
            [PYTHON, "-m", "tests.satellite.actors", "node", "--port", str(LOCAL_MQTT)]
            + ["--site", SITE, "--devices", ",".join(devices), "--rate", str(rate)]
            + ["--boot", str(random.randrange(1, 2**31)), "--out", str(self.workdir / "sent.txt")],
        )

    def start_screen(self) -> None:
        self.spawn(
            "screen",
            self.sat_ns,
            [PYTHON, "-m", "tests.satellite.actors", "screen", "--port", str(LOCAL_MQTT)]
            + ["--site", SITE, "--out", str(self.workdir / "screen.jsonl")],
        )

    # -- tear-down -------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop every process, delete links and namespaces (iptables rules go with them)."""
        for name in list(self.procs):
            with contextlib.suppress(Exception):
                self.stop(name)
        for link in (self.mgmt_root, self.mgmt_sat_root):
            sh("ip", "link", "del", link, check=False)
        for name in (self.sat_ns, self.cen_ns):
            sh("ip", "netns", "del", name, check=False)

    def remove_files(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)
