"""Soak of the whole chain under load, with every service killed (SIGKILL) and restarted in turn.

``python -m bench soak [--nodes 2000] [--screens 300] [--minutes 10 | --seconds S]``

A simulated building of ``--nodes`` sensor nodes publishes presence to a private
Mosquitto; the real gateway (its own process) stores it in InfluxDB and derives
live state; the backend (its own process, on PostgreSQL) serves screens over SSE
while people book desks and check in through the API. During the run the
gateway, the backend, the broker, InfluxDB and PostgreSQL are each killed with
SIGKILL and started again. At the end it checks and prints: every acked presence
message stored exactly once, no booking released twice or while its sensor was
not a fresh vacant one, every screen back on live data after each restart (the
target: within 10 s), each service's memory flat after warm-up (target: growth
under 10 % of its heap and shared memory; file pages it maps, InfluxDB's data
files, are printed beside it), and the push p99 (probe change -> screen) as the median of rounds.
The test ``tests/e2e/test_soak.py`` runs the same code, shorter.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import shutil
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import _soak_checks as checks  # noqa: E402
from bench._soak_chain import FLOOR_SIZE, SITE, Chain, MemoryWatch, seed  # noqa: E402
from bench._soak_load import Node, NodePlan, ScreenPlan, run_nodes, run_screens  # noqa: E402
from tests.services import make_tempdir, wait_until  # noqa: E402

KILL_ORDER = ("gateway", "backend", "broker", "influxdb", "postgresql")
RECOVERY_TARGET_S = 10.0
MEMORY_TARGET = 0.10
PUSH_TARGET_S = 2.0  # presence change -> screen, the bound for a detection
ctx = mp.get_context("spawn")


@dataclass
class SoakConfig:
    """Size and length of one soak."""

    nodes: int = 2000
    screens: int = 300
    seconds: float = 600.0
    kills: tuple[str, ...] = KILL_ORDER
    heartbeat_s: float = 30.0
    grace_s: int = 20
    per_connection: int = 50
    rounds: int = 5


@dataclass
class SoakResult:
    """Everything the end checks found."""

    config: SoakConfig
    history: checks.HistoryCheck
    bookings: checks.BookingCheck
    restarts: list[checks.Restart]
    push_p99s: list[float]
    memory: dict[str, tuple[float, int, int] | None]
    api_codes: dict[int, int] = field(default_factory=dict)
    api_errors: list[str] = field(default_factory=list)
    logs: Path | None = None
    hop_p99s: list[float] = field(default_factory=list)
    #: The same growth for the file pages each service maps (shown, not judged).
    mapped: dict[str, tuple[float, int, int] | None] = field(default_factory=dict)


def roles_for(nodes: int) -> list[str]:
    """One probe per floor; of the rest a few desks booked per sensor behaviour, most busy."""
    roles = []
    for n in range(nodes):
        bucket = (n * 7919) % 100
        if n % FLOOR_SIZE == 0:
            roles.append("probe")
        elif bucket < 5:
            roles.append("present")
        elif bucket < 10:
            roles.append("noshow")
        elif bucket < 12:
            roles.append("ghost")
        elif bucket < 15:
            roles.append("checkin")  # sensor vacant, the person checks in through the API
        else:
            roles.append("busy")
    return roles


class People:
    """People booking desks for the next half hour and checking in, through the API."""

    def __init__(self, base: str, sessions: list[str], desks: list[tuple[str, str]]) -> None:
        self.base = base
        self.sessions = sessions
        self.desks = desks
        self.codes: dict[int, int] = {}
        self.booked: list[tuple[str, str, float]] = []
        #: Desks whose person never checked in: the check-in was refused (the booking was
        #: released before) or the booking's creation got no answer.
        self.late: set[str] = set()
        self.errors: list[str] = []  # bodies of 5xx answers (a 500 is a defect; 503 is not)
        self._stop = threading.Event()

    def _call(self, http: httpx.Client, method: str, url: str, token: str, body: Any) -> Any:
        """Retry through outages (connection refused, 5xx) for up to 60 s, as an app would.

        ``body`` is called for each attempt (a booking starts "now" at every try).
        """
        deadline = time.monotonic() + 60
        while not self._stop.is_set():
            try:
                r = http.request(
                    method, url, json=body(), headers={"Authorization": f"Bearer {token}"}
                )
                code = r.status_code
            except httpx.HTTPError:
                code = 0
            self.codes[code] = self.codes.get(code, 0) + 1
            if code >= 500 and len(self.errors) < 10:
                self.errors.append(
                    f"{time.strftime('%H:%M:%S')} {method} {url} {code} {r.text[:200]}"
                )
            if 0 < code < 500 or time.monotonic() > deadline:
                return r if code else None
            time.sleep(1.0)
        return None

    def run(self, until: float) -> None:
        """Book one desk every few seconds until ``until``; check in where the plan says so."""
        gap = max(1.0, (until - time.time()) / max(1, len(self.desks)))
        with httpx.Client(base_url=self.base, timeout=15) as http:
            for i, (space, role) in enumerate(self.desks):
                if self._stop.wait(gap) or time.time() > until:
                    return
                token = self.sessions[i % len(self.sessions)]

                def body(space: str = space) -> dict[str, str]:
                    start = datetime.now(UTC) + timedelta(seconds=2)
                    return {"space_id": space, "start": start.isoformat(),
                            "end": (start + timedelta(minutes=30)).isoformat()}  # fmt: skip

                made = self._call(http, "POST", "/api/v1/bookings", token, body)
                if made is None:  # no answer: the booking may exist, unknown to its person,
                    self.late.add(space)  # who therefore never checks in
                if made is None or made.status_code != 201:
                    continue
                self.booked.append((space, role, time.time()))
                if role == "checkin":
                    time.sleep(3)
                    url = f"/api/v1/bookings/{made.json()['id']}/check-in"
                    done = self._call(http, "POST", url, token, lambda: {"method": "app"})
                    if done is None or done.status_code != 200:
                        self.late.add(space)

    def stop(self) -> None:
        """Stop after the current request."""
        self._stop.set()


class BrokerHop:
    """Baseline in the same run: probe presence straight from the broker (one hop), no chain."""

    def __init__(self, host: str, port: int, devices: list[str]) -> None:
        import paho.mqtt.client as mqtt

        self.samples: list[tuple[float, int]] = []  # (received, ts of the message in ms)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="soak-baseline")
        topics = [(f"werkplek/v1/{SITE}/{d}/presence", 0) for d in devices]
        self.client.on_connect = lambda c, *_: c.subscribe(topics)
        self.client.on_message = lambda _c, _u, m: self.samples.append(
            (time.time(), json.loads(m.payload)["ts"])
        )
        self.client.reconnect_delay_set(0.2, 2)
        self.client.connect_async(host, port)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()

    def as_seen(self) -> list[list[Any]]:
        """In the screens' form (screen, received, since, state, kind) for ``push_rounds``."""
        return [[0, at, ts, None, "delta"] for at, ts in self.samples]


def _kill_times(cfg: SoakConfig) -> list[float]:
    warm = max(15.0, 0.15 * cfg.seconds)
    tail = max(25.0, 0.25 * cfg.seconds)
    span = cfg.seconds - warm - tail
    n = len(cfg.kills)
    return [warm + span * i / max(1, n - 1) for i in range(n)]


def run(cfg: SoakConfig, log: Any = print) -> SoakResult:  # noqa: PLR0915 - one story, in order
    """Run one soak and return what the end checks found."""
    workdir = make_tempdir("soak")
    chain = Chain(workdir, screens_max=cfg.screens + 100)
    roles = roles_for(cfg.nodes)
    try:
        chain.start_stores()
        building = seed(chain.db_url, roles, cfg.screens, people=50, grace_s=cfg.grace_s)
        chain.start_backend()
        chain.start_gateway()
        nodes = [Node(d, s, r) for d, (s, r) in building.devices.items()]
        probes = [d for d, (_, r) in building.devices.items() if r == "probe"]
        hop = BrokerHop(chain.broker.host, chain.broker.port, probes)
        start = time.time()
        parts = 2 if cfg.nodes >= 1000 else 1
        node_procs = []
        for p in range(parts):
            plan = NodePlan(chain.broker.host, chain.broker.port, SITE, nodes[p::parts],
                            cfg.seconds, cfg.heartbeat_s, cfg.per_connection,
                            workdir / f"sent-{p}.json", f"p{p}")  # fmt: skip
            proc = ctx.Process(target=run_nodes, args=(plan,))
            proc.start()
            node_procs.append((proc, plan.out))
        screen_plan = ScreenPlan("127.0.0.1", chain.http_port, building.screen_tokens,
                                 building.floors, cfg.screens, workdir / "screens.json",
                                 workdir / "screens.stop")  # fmt: skip
        screens = ctx.Process(target=run_screens, args=(screen_plan,))
        screens.start()
        memory = MemoryWatch(chain)
        space_roles = dict(building.devices.values())
        bookable = [(s, r) for s, r in building.devices.values()
                    if r in ("present", "noshow", "ghost", "checkin")]  # fmt: skip
        random.Random(1).shuffle(bookable)
        people = People(chain.base, building.sessions, bookable)
        last_booking = start + cfg.seconds - cfg.grace_s - 15
        booker = threading.Thread(target=people.run, args=(last_booking,), daemon=True)
        booker.start()
        log(f"soak: {cfg.nodes} nodes, {cfg.screens} screens, {cfg.seconds:.0f} s, "
            f"kills {', '.join(cfg.kills)}; work in {workdir}")  # fmt: skip
        restarts: list[checks.Restart] = []
        for at, name in zip(_kill_times(cfg), cfg.kills, strict=True):
            time.sleep(max(0.0, start + at - time.time()))
            killed, up = chain.kill_and_restart(name)
            restarts.append(checks.Restart(name, killed, up))
            log(f"  {killed - start:6.1f} s  killed {name}, up again in {up - killed:.1f} s")
        time.sleep(max(0.0, start + cfg.seconds - time.time()))
        end = time.time()
        memory.stop()
        people.stop()
        hop.stop()
        booker.join(90)
        sent: dict[str, dict[str, int]] = {}
        for proc, out in node_procs:
            proc.join(120)
            sent.update(json.loads(out.read_text())["sent"])
        acked = sum(v for seqs in sent.values() for v in seqs.values())
        log(f"  publishers done: {acked} presence messages acked; waiting for history")

        def drained() -> bool:
            r: Any = chain.influx.query("SELECT count(seq) FROM presence", db="soak")
            series = r["results"][0].get("series")
            return bool(series) and series[0]["values"][0][1] >= acked

        with_drain = True
        try:
            wait_until(drained, 120, interval=1.0, what="every acked message in InfluxDB")
        except TimeoutError:
            with_drain = False
        time.sleep(3)  # redeliveries still on their way would show as duplicates
        screen_plan.stop_file.touch()
        screens.join(60)
        seen = json.loads(screen_plan.out.read_text())["seen"]
        stored = checks.stored_seqs(chain.influx, "soak", list(sent))
        history = checks.check_history(sent, stored)
        history.untagged = checks.untagged_points(chain.influx, "soak")
        if not with_drain:
            log("  history did not catch up within 120 s")
        space_roles.update((space, "checkin_late") for space in people.late)
        bookings = checks.check_bookings(chain.db_url, space_roles, last_booking - 30)
        checks.recovery(restarts, seen, cfg.screens)
        push = checks.push_rounds(seen, restarts, start, end, cfg.rounds)
        hop_p99s = checks.push_rounds(hop.as_seen(), restarts, start, end, cfg.rounds)
        settle = min(60.0, 0.2 * cfg.seconds)
        last_up = {r.service: r.up for r in restarts}
        mem = {name: checks.memory_growth(samples, last_up.get(name, start) + settle)
               for name, samples in memory.samples.items()}  # fmt: skip
        mapped = {name: checks.memory_growth(samples, last_up.get(name, start) + settle)
                  for name, samples in memory.file_samples.items()}  # fmt: skip
        return SoakResult(cfg, history, bookings, restarts, push, mem, people.codes,
                          people.errors, workdir.with_name(workdir.name + "-logs"),
                          hop_p99s, mapped)  # fmt: skip
    finally:
        (workdir / "screens.stop").touch()
        chain.stop()
        keep = workdir.with_name(workdir.name + "-logs")  # the services' logs outlive the run
        keep.mkdir(exist_ok=True)
        for path in workdir.rglob("*.log"):
            shutil.copyfile(path, keep / path.name)
        shutil.rmtree(workdir, ignore_errors=True)


def report(result: SoakResult, log: Any = print) -> None:
    """Print every figure against its target."""
    log(f"  services' logs kept in {result.logs}")
    h, b = result.history, result.bookings
    mark = lambda ok: "met" if ok else "NOT MET"  # noqa: E731
    log(f"  history: {h.acked} acked presence messages, {h.stored} points stored; "
        f"missing {len(h.missing)}, duplicated {len(h.duplicated)}, never sent "
        f"{len(h.unknown)}, without their space {h.untagged}; "
        f"{h.unacked} never acked ({h.unacked_stored} of them stored)"
        f"  exactly once: {mark(h.ok)}")  # fmt: skip
    for item in (h.missing[:5], h.duplicated[:5], h.unknown[:5]):
        if item:
            log(f"    e.g. {item}")
    log(f"  bookings by sensor: {json.dumps(b.by_role, sort_keys=True)}")
    log(f"    released twice {len(b.released_twice)}, wrongly released "
        f"{len(b.wrongly_released)} {b.wrongly_released[:5]}, no-shows still held "
        f"{len(b.noshow_left)}  no wrong release: {mark(b.ok)}")  # fmt: skip
    codes = dict(sorted(result.api_codes.items()))
    log(f"    API answers while booking (0 = refused or no answer in 15 s): {codes}")
    for line in result.api_errors:
        log(f"    {line}")
    log(f"  recovery (target: every screen on live data within {RECOVERY_TARGET_S:.0f} s):")
    for r in result.restarts:
        live = "never" if r.screens_live_s is None else f"{r.screens_live_s:5.1f} s"
        ok = r.screens_live_s is not None and r.screens_missing == 0
        ok = ok and (r.screens_live_s or 0) <= RECOVERY_TARGET_S
        log(f"    {r.service:<11} down {r.up - r.killed:5.1f} s, screens live after {live}"
            f" ({r.screens_missing} screens without live data)  {mark(ok)}")  # fmt: skip
    p = result.push_p99s
    if result.hop_p99s:
        rounds = ", ".join(f"{x * 1000:.0f}" for x in result.hop_p99s)
        log(f"  baseline p99 (probe change -> bare MQTT subscriber, one broker hop), median of "
            f"{len(result.hop_p99s)} rounds: {statistics.median(result.hop_p99s) * 1000:.0f} ms"
            f" (rounds: {rounds} ms)")  # fmt: skip
    if p:
        med = statistics.median(p)
        rounds = ", ".join(f"{x * 1000:.0f}" for x in p)
        log(f"  push p99 (probe change -> screen), median of {len(p)} rounds: "
            f"{med * 1000:.0f} ms (rounds: {rounds} ms); target < {PUSH_TARGET_S:.0f} s: "
            f"{mark(med < PUSH_TARGET_S)}")  # fmt: skip
    log(
        f"  memory after warm-up, heap and shared (target: growth < {MEMORY_TARGET:.0%});"
        " file pages mapped shown apart:"
    )
    for name, growth in sorted(result.memory.items()):
        if growth is None:
            log(f"    {name:<11} too few samples after its last restart")
            continue
        g, first, last = growth
        files = result.mapped.get(name)
        beside = (f"; files mapped {files[1] / 1024:.1f} -> {files[2] / 1024:.1f} MiB"
                  if files else "")  # fmt: skip
        log(f"    {name:<11} {first / 1024:7.1f} -> {last / 1024:7.1f} MiB ({g:+.1%})"
            f"  {mark(g < MEMORY_TARGET)}{beside}")  # fmt: skip


def main() -> None:
    """Parse the options after ``soak`` and run."""
    parser = argparse.ArgumentParser(prog="python -m bench soak")
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--screens", type=int, default=300)
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, default=10.0)
    length.add_argument("--seconds", type=float)
    args = parser.parse_args(sys.argv[1:])
    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    cfg = SoakConfig(nodes=args.nodes, screens=args.screens, seconds=seconds)
    report(run(cfg))


if __name__ == "__main__":
    main()
