"""The demo's simulated sensor fleet: the real firmware ``Node`` under CPython.

Every simulated node runs the same ``firmware/node.py`` that runs on an ESP32
and in the MicroPython unix port; only its presence input is simulated, from
the working day planned in :mod:`werkplek.workday`. The clock can run faster
than real time so a whole day passes in minutes.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import sys
import time
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from werkplek.workday import Interval, SpaceSpec, is_present, plan_day

log = logging.getLogger(__name__)

FIRMWARE_DIR = Path(__file__).resolve().parent.parent / "firmware"
TIMEZONE = ZoneInfo("Europe/Amsterdam")
#: A PIR only sees motion, so a seated person gives short pulses, not a steady signal.
PIR_PULSE_EVERY_S = 20.0
PIR_PULSE_LENGTH_S = 4.0


@dataclass
class SimClock:
    """Local office time that may run ``speed`` times faster than real time.

    The demo installs it as the backend's clock (``backend.clock.use``), so the
    fleet, the booking rules and the pages share one simulated day.
    """

    start: datetime
    speed: float = 1.0
    _origin: float = field(default_factory=time.monotonic)
    _wall_origin: float = field(default_factory=time.time)

    def now(self) -> datetime:
        """The simulated local time."""
        elapsed = (time.monotonic() - self._origin) * self.speed
        return self.start + timedelta(seconds=elapsed)

    def from_wall(self, moment: datetime) -> datetime:
        """The simulated time at a real (wall-clock) moment, such as a sensor's "since"."""
        elapsed = (moment.timestamp() - self._wall_origin) * self.speed
        return self.start + timedelta(seconds=elapsed)


#: The sites' default opening hours (the booking rules'): inside them the simulated day
#: is the real time; outside them it is the next working morning.
OPENS_HOUR, CLOSES_HOUR = 7, 19


def default_start(now: datetime | None = None) -> datetime:
    """Start the simulated day now during opening hours, else at 09:30 of a working day.

    Inside opening hours the simulated day is the real time. Outside them the
    first page a user opens should still show a living office, not an empty
    building at night; the demo installs this clock for the bookings, door
    panels and pages too, and prints that its day is not the real clock.
    """
    local = (now or datetime.now(TIMEZONE)).astimezone(TIMEZONE)
    if local.weekday() < 5 and OPENS_HOUR <= local.hour < CLOSES_HOUR:
        return local
    day = local.date()
    while True:
        if local.hour >= CLOSES_HOUR or day.weekday() >= 5:
            day += timedelta(days=1)
        if day.weekday() < 5:
            break
    return datetime(day.year, day.month, day.day, 9, 30, tzinfo=TIMEZONE)


@dataclass(frozen=True, slots=True)
class FleetDevice:
    """One simulated node and the space it watches."""

    site: str
    device_id: str
    space_id: str
    space_kind: str
    source: str
    quiet: bool = False


class DayPlanner:
    """Plans each simulated day once, on first use, for all spaces."""

    def __init__(self, spaces: list[SpaceSpec], seed: int) -> None:
        self._spaces = spaces
        self._seed = seed
        self._day: date | None = None
        self._plan: dict[str, list[Interval]] = {}

    def intervals(self, space_id: str, day: date) -> list[Interval]:
        """Presence intervals of one space on one day."""
        if day != self._day:
            self._plan = plan_day(self._spaces, day, self._seed)
            self._day = day
        return self._plan.get(space_id, [])


class SimulatedPresence:
    """The presence input of one node: ``value()`` as a PIR or radar would report it."""

    def __init__(self, device: FleetDevice, planner: DayPlanner, clock: SimClock) -> None:
        self._device = device
        self._planner = planner
        self._clock = clock
        # A stable per-device phase, so the nodes' pulses do not all line up.
        self._phase = (zlib.crc32(device.device_id.encode()) % 1000) / 1000 * PIR_PULSE_EVERY_S

    def value(self) -> bool:
        """True while the simulated sensor detects someone."""
        now = self._clock.now()
        second = now.hour * 3600 + now.minute * 60 + now.second + now.microsecond / 1e6
        present = is_present(self._planner.intervals(self._device.space_id, now.date()), second)
        if present and self._device.source == "pir":
            return (time.monotonic() + self._phase) % PIR_PULSE_EVERY_S < PIR_PULSE_LENGTH_S
        return present


def load_node_class(firmware_dir: Path = FIRMWARE_DIR) -> Any:
    """Import the firmware's ``Node`` class from the firmware folder."""
    if str(firmware_dir) not in sys.path:
        sys.path.insert(0, str(firmware_dir))
    return importlib.import_module("node").Node


def node_config(device: FleetDevice, host: str, port: int, speed: float) -> dict[str, Any]:
    """The firmware configuration of one simulated node.

    Hold times are scaled with the clock speed (never below a few seconds), so an
    accelerated day still shows desks staying occupied through a short break.
    """
    room = device.space_kind != "desk"
    hold_s = (5 if room else 10) * 60 / speed
    return {
        "device_id": device.device_id,
        "site": device.site,
        "broker_host": host,
        "broker_port": port,
        "source": device.source,
        "space_type": "room" if room else "desk",
        "confirm_ms": int(max(300.0, 2000 / speed)),
        "hold_ms": int(max(3000.0, hold_s * 1000)),
        "heartbeat_s": 60,
        "keepalive_s": 30,
    }


class Fleet:
    """Runs one firmware ``Node`` per device as asyncio tasks."""

    def __init__(
        self,
        devices: list[FleetDevice],
        host: str,
        port: int,
        clock: SimClock,
        seed: int = 0,
        firmware_dir: Path = FIRMWARE_DIR,
    ) -> None:
        specs = [SpaceSpec(d.space_id, d.space_kind, d.quiet) for d in devices]
        self._planner = DayPlanner(specs, seed)
        self._devices = devices
        self._host = host
        self._port = port
        self._clock = clock
        self._node_class = load_node_class(firmware_dir)
        self._nodes: list[Any] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, stagger_s: float = 0.01) -> None:
        """Start every node, a few milliseconds apart to spare the broker a stampede."""
        for device in self._devices:
            presence = SimulatedPresence(device, self._planner, self._clock)
            cfg = node_config(device, self._host, self._port, self._clock.speed)
            node = self._node_class(cfg, presence)
            self._nodes.append(node)
            self._tasks.append(asyncio.create_task(node.run(), name=device.device_id))
            await asyncio.sleep(stagger_s)
        log.info("simulated fleet of %d nodes started", len(self._nodes))

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stop every node cleanly (each says ``offline``); cancel what lingers."""
        for node in self._nodes:
            node.stop()
        _, lingering = await asyncio.wait(self._tasks, timeout=grace_s)
        for task in lingering:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._nodes.clear()
