"""`werkplek demo`: the whole system in one process, on embedded defaults.

Starts, in order: the embedded MQTT broker (unless ``WERKPLEK_MQTT_URL`` names
one), the backend on SQLite with a seeded sample municipality, the gateway
(SQLite history unless ``WERKPLEK_INFLUX_URL`` names an InfluxDB) and a
simulated fleet running the real firmware. Prints the URLs, then runs until
Ctrl-C, and stops everything in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from backend.config import Settings as BackendSettings
from common.mqtt_url import parse_mqtt_url
from gateway.settings import GatewaySettings
from werkplek.broker import EmbeddedBroker
from werkplek.demo_history import needs_seed, seed_history
from werkplek.fleet import TIMEZONE, Fleet, FleetDevice, SimClock, default_start
from werkplek.settings import DemoSettings

log = logging.getLogger(__name__)


@dataclass
class DemoOptions:
    """Choices made on the command line, on top of the settings."""

    speed: float = 1.0
    start: datetime | None = None
    fleet: bool = True
    seed: int = 0


@dataclass
class DemoHandles:
    """What a running demo exposes to its caller (the CLI, or a test)."""

    base_url: str
    mqtt_url: str
    signage_token: str
    floors: list[tuple[str, str, str]] = field(default_factory=list)  # (site, floor id, name)
    login: tuple[str, str] | None = None  # (username, password) of the demo employee
    facility_login: tuple[str, str] | None = None  # the same for the demo facility manager
    panel: tuple[str, str] | None = None  # (room id, door-panel token)
    notes: list[str] = field(default_factory=list)  # printed under the URLs

    def signage_url(self, site: str, floor: str) -> str:
        """The kiosk URL of one floor."""
        from backend.seed import SCREEN_SPOTS

        spot = SCREEN_SPOTS.get(site)  # "U bent hier" on the screen's own plan
        here = f"&here={spot[0]:g},{spot[1]:g}" if spot else ""
        query = f"site={site}&floor={floor}{here}"
        return f"{self.base_url}/signage/?{query}#token={self.signage_token}"

    def panel_url(self) -> str | None:
        """The door panel of the demo's first meeting room."""
        if self.panel is None:
            return None
        room, token = self.panel
        return f"{self.base_url}/signage/room.html?space={room}#token={token}"


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers themselves do; else a just-closed port (TIME_WAIT) looks taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _any_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def keep_port(
    host: str, wanted: int, remembered: Path, *, explicit: bool = False
) -> tuple[int, str | None]:
    """Choose a port that stays the same across restarts, so open screens come back.

    The port used last time (kept in ``remembered``, in the demo's data folder)
    comes first, then the configured one, then any free one; the choice is
    written back. A port set explicitly (``WERKPLEK_HTTP_PORT``) wins over the
    remembered one. Returns the port and, when the preferred port is in use by
    another program, a sentence saying so that the demo prints.
    """
    preferred = wanted
    if not explicit and remembered.exists():
        with contextlib.suppress(ValueError):
            kept = int(remembered.read_text().strip())
            preferred = kept if 0 < kept < 65536 else wanted
    note = None
    if _port_free(host, preferred):
        port = preferred
    else:
        port = wanted if wanted != preferred and _port_free(host, wanted) else _any_port(host)
        note = (
            f"Port {preferred} is in use by another program; the demo uses {port} "
            f"(and keeps it next time). / Poort {preferred} is bezet door een ander "
            f"programma; de demo gebruikt {port}."
        )
        log.warning("port %d on %s is in use by another program; using %d", preferred, host, port)
    remembered.write_text(f"{port}\n")
    return port, note


def parse_start(value: str | None, now: datetime | None = None) -> datetime | None:
    """Turn ``HH:MM`` into that time on today, or on the next working day at a weekend.

    The office is nearly empty at weekends, which makes a poor first impression.
    A full local date and time (``2031-03-04T10:00``) is taken as it is, so a
    demo can show any day, whatever the real clock says.
    """
    if not value:
        return None
    if "T" in value or "-" in value:
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=TIMEZONE)
    parsed = time.fromisoformat(value)
    day = (now or datetime.now(TIMEZONE)).astimezone(TIMEZONE).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, parsed, tzinfo=TIMEZONE)


def prepare_database(backend: BackendSettings) -> tuple[str, list[FleetDevice], list[Any]]:
    """Create the tables, seed the sample municipality and make a signage token."""
    from backend import seed
    from backend.auth import service as auth_service
    from backend.database import create_all, make_engine, make_session_factory
    from backend.spaces import service as spaces_service

    engine = make_engine(backend.database_url)
    try:
        create_all(engine)
        with make_session_factory(engine)() as session:
            seed.seed_demo(session)
            token = auth_service.create_token(session, role="signage", name="demo screens")
            devices = [
                FleetDevice(
                    site=d.site,
                    device_id=d.device_id,
                    space_id=d.space_id,
                    space_kind=d.space_kind,
                    source=d.source,
                    quiet=d.quiet,
                )
                for d in seed.list_devices(session)
            ]
            floors = [(f.site_id, f.id, f.name) for f in spaces_service.list_floors(session)]
            session.commit()
    finally:
        engine.dispose()
    return token, devices, floors


DEMO_USER = "medewerker"
DEMO_FACILITY_USER = "facilitair"


def ensure_demo_login(
    backend: BackendSettings,
    password_file: Path,
    username: str = DEMO_USER,
    role: str = "employee",
    display_name: str = "Demo medewerker",
) -> tuple[str, str]:
    """Make a demo person's local account once; keep its password beside the data.

    The password is random per data folder (never a default in the code) and is
    shown to whoever started the demo, so the booking app and the facility
    pages can be tried at once. Only the demo does this.
    """
    from backend.database import make_engine, make_session_factory
    from backend.people import service as people

    if password_file.exists():
        return username, password_file.read_text().strip()
    password = secrets.token_urlsafe(9)
    engine = make_engine(backend.database_url)
    try:
        with make_session_factory(engine)() as session:
            people.create_user(
                session,
                username=username,
                display_name=display_name,
                role=role,
                password=password,
                actor="demo",
            )
    finally:
        engine.dispose()
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    return username, password


def make_panel(backend: BackendSettings, site: str | None = None) -> tuple[str, str] | None:
    """A door-panel token for the first meeting room of ``site`` (the "Start here" site).

    A new token each start, as for the screens; earlier ones stay valid.
    """
    from sqlalchemy import select

    from backend.bookings.panel import create_panel
    from backend.database import make_engine, make_session_factory
    from backend.spaces.models import Space

    engine = make_engine(backend.database_url)
    try:
        with make_session_factory(engine)() as session:
            rooms = select(Space.id).where(Space.kind == "meeting_room")
            room = session.scalar(
                rooms.order_by((Space.site_id != (site or "")).asc(), Space.id).limit(1)
            )
            if room is None:
                return None
            token = create_panel(session, room, actor="demo")
            session.commit()
            return room, token
    finally:
        engine.dispose()


def clock_note(start: datetime, speed: float, now: datetime | None = None) -> str | None:
    """Say so when the simulated office day is not the real clock.

    The sensors, the booking rules, the door panels and the pages' clocks all
    follow the simulated day; the facility history (and its reports) keeps the
    real dates. They agree when the demo starts during office hours at the
    normal speed (the default).
    """
    real = (now or datetime.now(TIMEZONE)).astimezone(TIMEZONE)
    if speed == 1.0 and abs((start - real).total_seconds()) < 60:
        return None
    return (
        f"Simulated office time starts {start:%a %d %b %H:%M} (x{speed:g}) for the sensors, "
        f"bookings, door panels and screens; the facility history keeps the real clock "
        f"({real:%a %H:%M}). / De demo volgt een gesimuleerde dag (sensoren, boekingen, "
        "deurpanelen, schermen); de facilitaire geschiedenis de echte klok."
    )


async def run_demo(
    settings: DemoSettings,
    options: DemoOptions,
    stop: asyncio.Event,
    on_ready: Callable[[DemoHandles], None] | None = None,
) -> None:
    """Run the demo until ``stop`` is set; call ``on_ready`` once everything is up."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # One simulated day for the fleet, the bookings, the rules and the pages: installed
    # before anything is written, taken out again when the demo stops.
    sim_start = options.start or default_start()
    clock = SimClock(sim_start, options.speed)
    install_clock(clock)
    try:
        await _run(settings, options, clock, stop, on_ready)
    finally:
        install_clock(None)


def install_clock(clock: SimClock | None) -> None:
    """Make ``clock`` the backend's clock (``backend.clock``), or the real one again."""
    from backend import clock as backend_clock

    if clock is None:
        backend_clock.use(None)
    else:
        backend_clock.use(clock.now, clock.from_wall, rate=clock.speed)


def demo_backend_settings(overrides: dict[str, Any], speed: float) -> BackendSettings:
    """The backend's settings in the demo: logins last their real length at any speed.

    Logins expire on the backend's (simulated) clock, so at ``--speed 60`` a login
    would last a sixtieth of its real time; unless ``WERKPLEK_SESSION_HOURS`` is
    set, the demo lengthens it by the speed.
    """
    backend = BackendSettings(**overrides)
    if "session_hours" not in backend.model_fields_set:
        backend.session_hours *= max(1.0, speed)
    return backend


async def _run(
    settings: DemoSettings,
    options: DemoOptions,
    clock: SimClock,
    stop: asyncio.Event,
    on_ready: Callable[[DemoHandles], None] | None,
) -> None:
    broker: EmbeddedBroker | None = None
    mqtt_url = settings.mqtt_url
    overrides: dict[str, Any] = {}
    notes: list[str] = []
    if mqtt_url is None:
        port, note = keep_port(
            settings.embedded_mqtt_host,
            settings.embedded_mqtt_port,
            settings.data_dir / "demo-mqtt-port.txt",
            explicit="embedded_mqtt_port" in settings.model_fields_set,
        )
        notes += [note] if note else []
        broker = EmbeddedBroker(settings.embedded_mqtt_host, port)
        await broker.start()
        mqtt_url = broker.url
        overrides = {"mqtt_url": mqtt_url, "mqtt_protocol": "3.1.1"}

    backend_settings = demo_backend_settings(overrides, clock.speed)
    backend_settings.http_port, note = keep_port(
        backend_settings.http_host,
        backend_settings.http_port,
        settings.data_dir / "demo-http-port.txt",
        explicit="http_port" in backend_settings.model_fields_set,
    )
    notes += [note] if note else []
    token, devices, floors = await asyncio.to_thread(prepare_database, backend_settings)
    login = await asyncio.to_thread(
        ensure_demo_login, backend_settings, settings.data_dir / "demo-login.txt"
    )
    facility_login = await asyncio.to_thread(
        ensure_demo_login,
        backend_settings,
        settings.data_dir / "demo-facility-login.txt",
        DEMO_FACILITY_USER,
        "facility",
        "Demo facilitair",
    )
    from backend.plans.demo import seed_demo_plans_at  # a team and week plans to look at

    await asyncio.to_thread(seed_demo_plans_at, backend_settings.database_url, login[0])
    panel = await asyncio.to_thread(make_panel, backend_settings, floors[0][0] if floors else None)
    gateway_settings = GatewaySettings(**overrides)
    seeding = gateway_settings.influx_url is None and needs_seed(
        settings.data_dir, settings.demo_history_weeks
    )
    if seeding:
        notes.append(
            f"The facility reports get {settings.demo_history_weeks} weeks of sample history, "
            "written now in the background (about a minute). / De facilitaire rapporten "
            "krijgen voorbeeldgeschiedenis; dat duurt ongeveer een minuut."
        )
    notes += [n for n in [clock_note(clock.start, options.speed)] if n]

    # Written beside the start-up (short transactions, like the gateway's own), so the
    # facility reports fill while the live desks come up.
    history_task: asyncio.Future[Any] | None = None
    if seeding:
        history_task = asyncio.ensure_future(
            asyncio.to_thread(
                seed_history,
                backend_settings,
                gateway_settings.history_path,
                settings.data_dir,
                weeks=settings.demo_history_weeks,
                seed=options.seed,
                stop=stop.is_set,
            )
        )
        history_task.add_done_callback(_report_failure)

    from backend.main import create_app
    from gateway.app import Gateway

    app = create_app(backend_settings)
    server = _QuietServer(
        uvicorn.Config(
            app,
            host=backend_settings.http_host,
            port=backend_settings.http_port,
            log_level="warning",
            lifespan="on",
        )
    )
    server_task = asyncio.create_task(server.serve(), name="backend")
    gateway = Gateway(gateway_settings)
    fleet: Fleet | None = None
    try:
        while not server.started:
            if server_task.done():
                server_task.result()
                raise RuntimeError("the backend stopped during start-up")
            await asyncio.sleep(0.05)
        await asyncio.to_thread(gateway.start)
        if options.fleet:
            # Demo nodes connect without credentials: a broker that demands them is
            # a production broker, where real nodes carry their own.
            address = parse_mqtt_url(mqtt_url)
            fleet = Fleet(devices, address.host, address.port, clock, seed=options.seed)
            await fleet.start()
        base = f"http://{_display_host(backend_settings.http_host)}:{backend_settings.http_port}"
        handles = DemoHandles(base, mqtt_url, token, floors, login, facility_login, panel, notes)
        if on_ready is not None:
            on_ready(handles)
        await stop.wait()
    finally:
        log.info("stopping")
        if history_task is not None:
            with contextlib.suppress(Exception):  # stops between two days once ``stop`` is set
                await asyncio.wait_for(history_task, timeout=30)
        if fleet is not None:
            await fleet.stop()
            log.info("fleet stopped")
        await asyncio.to_thread(gateway.stop)
        log.info("gateway stopped")
        # Open SSE streams would hold uvicorn's shutdown until its timeout.
        runtime = getattr(app.state, "runtime", None)
        if runtime is not None:
            runtime.close_streams()
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server_task, timeout=10)
        log.info("backend stopped")
        if broker is not None:
            await broker.stop()
            log.info("broker stopped")


def _report_failure(task: asyncio.Future[Any]) -> None:
    """Log a failed background step at once, not only when the demo stops."""
    if not task.cancelled() and task.exception() is not None:
        log.error("demo history could not be written: %s", task.exception())


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signals to the demo, which stops every part in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Do not take over SIGINT/SIGTERM."""
        yield


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def describe(handles: DemoHandles, data_dir: Path) -> str:
    """The text printed once the demo is up."""
    lines = [
        "",
        "Werkplek demo is running. / Werkplek-demo draait.",
        "",
    ]
    if handles.floors:
        site, floor, _ = handles.floors[0]
        lines.append(f"  Start here:            {handles.signage_url(site, floor)}")
    for site, floor, name in handles.floors:
        lines.append(f"  Scherm {site + ' / ' + name:<22} {handles.signage_url(site, floor)}")
    if handles.login:
        user, password = handles.login
        lines.append(
            f"  Booking app:           {handles.base_url}/app/  (log in: {user} / {password})"
        )
    if handles.facility_login:
        user, password = handles.facility_login
        lines.append(
            f"  Facility pages:        {handles.base_url}/facility/  (log in: {user} / {password})"
        )
    panel_url = handles.panel_url()
    if panel_url:
        lines.append(f"  Door panel:            {panel_url}")
    lines += [
        f"  API documentation:     {handles.base_url}/docs",
        f"  Availability (JSON):   curl -H 'Authorization: Bearer {handles.signage_token}' "
        f"{handles.base_url}/api/v1/availability",
        f"  MQTT broker:           {handles.mqtt_url}",
        f"  Data folder:           {data_dir.resolve()}",
        "",
        *[f"  Note: {note}" for note in handles.notes],
        *([""] if handles.notes else []),
        "Press Ctrl-C to stop. / Druk op Ctrl-C om te stoppen.",
        "",
    ]
    return "\n".join(lines)
