"""A believable sample municipality for the demo and the tests.

"Stadskantoor" (hq): three floors, each with four rooms along the north wall and
three desk zones below (A, B and a quiet zone "Stilte"); plus the satellite
"Servicepunt Dalfsen" with one small floor. Every space gets one sensor node:
radar or PIR on desks, fused nodes in rooms.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.spaces.models import Device, Floor, Site, Space

PLAN_W, PLAN_H = 1200.0, 640.0
DESK_W, DESK_H = 80.0, 56.0
#: (name, kind, capacity, width in plan units) of the rooms on every hq floor.
HQ_ROOMS = (
    ("Vergaderzaal {f}.01", "meeting_room", 10, 320.0),
    ("Overleg {f}.02", "meeting_room", 6, 240.0),
    ("Overleg {f}.03", "meeting_room", 4, 200.0),
    ("Focusruimte {f}.04", "focus_room", 1, 190.0),
)
#: Desk zones on every hq floor: (zone, quiet, number of desks, left edge).
HQ_ZONES = (("A", False, 14, 20.0), ("B", False, 13, 410.0), ("stilte", True, 13, 800.0))


@dataclass(frozen=True, slots=True)
class SeedSummary:
    """What ``seed_demo`` did; ``created`` is False when the data was already there."""

    created: bool
    sites: int
    floors: int
    spaces: int
    devices: int


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """One sensor node of the sample fleet, for the demo's simulated devices."""

    site: str
    device_id: str
    space_id: str
    space_kind: str
    source: str
    quiet: bool


def _desk_positions(left: float, count: int) -> list[tuple[float, float]]:
    # Two benches of two facing rows, four desks per row, an aisle between the benches.
    spots = []
    for row_y in (280.0, 340.0, 480.0, 540.0):
        for col in range(4):
            spots.append((left + 12.0 + col * (DESK_W + 4.0), row_y))
    return spots[:count]


def _hq_floor(level: int) -> tuple[Floor, list[Space]]:
    floor = Floor(
        id=f"hq-{level}",
        site_id="hq",
        name=f"Verdieping {level}",
        level=level,
        plan_width=PLAN_W,
        plan_height=PLAN_H,
    )
    # Desks first, so that device d-0001 watches desk hq.1.d-001 as in the contract.
    spaces: list[Space] = []
    number = 0
    for zone, quiet, count, left in HQ_ZONES:
        for i, (dx, dy) in enumerate(_desk_positions(left, count)):
            number += 1
            spaces.append(
                Space(
                    id=f"hq.{level}.d-{number:03d}",
                    site_id="hq",
                    floor_id=floor.id,
                    kind="desk",
                    name=f"Werkplek {level}.{number:02d}",
                    zone=zone,
                    quiet=quiet,
                    standing=i % 4 == 3,
                    screen=True,
                    accessible=i == 0,
                    x=dx,
                    y=dy,
                    w=DESK_W,
                    h=DESK_H,
                )
            )
    x = 40.0
    for index, (name, kind, capacity, width) in enumerate(HQ_ROOMS, start=1):
        prefix = "f" if kind == "focus_room" else "r"
        spaces.append(
            Space(
                id=f"hq.{level}.{prefix}-{index:02d}",
                site_id="hq",
                floor_id=floor.id,
                kind=kind,
                name=name.format(f=level),
                capacity=capacity,
                screen=kind == "meeting_room",
                accessible=True,
                x=x,
                y=40.0,
                w=width,
                h=170.0,
            )
        )
        x += width + 20.0
    return floor, spaces


def _satellite() -> tuple[Site, Floor, list[Space]]:
    site = Site(
        id="dalfsen",
        name="Servicepunt Dalfsen",
        kind="satellite",
        city="Dalfsen",
        latitude=52.5106,
        longitude=6.2596,
    )
    floor = Floor(
        id="dalfsen-0",
        site_id=site.id,
        name="Begane grond",
        level=0,
        plan_width=800.0,
        plan_height=480.0,
    )
    spaces = [
        Space(
            id="dalfsen.0.r-01",
            site_id=site.id,
            floor_id=floor.id,
            kind="meeting_room",
            name="Spreekkamer",
            capacity=6,
            screen=True,
            accessible=True,
            x=40.0,
            y=40.0,
            w=280.0,
            h=160.0,
        )
    ]
    for n in range(8):
        spaces.append(
            Space(
                id=f"dalfsen.0.d-{n + 1:03d}",
                site_id=site.id,
                floor_id=floor.id,
                kind="desk",
                name=f"Werkplek {n + 1}",
                zone="stilte" if n >= 5 else "A",
                quiet=n >= 5,
                standing=n == 4,
                screen=True,
                accessible=n == 0,
                # Zone A: two rows by the window; the quiet corner to the right.
                x=60.0 + (n % 3) * 84.0 if n < 5 else 400.0 + (n - 5) * 84.0,
                y=280.0 + (n // 3) * 60.0 if n < 5 else 280.0,
                w=DESK_W,
                h=DESK_H,
            )
        )
    return site, floor, spaces


def seed_demo(session: Session) -> SeedSummary:
    """Create the sample municipality unless site "hq" already exists (idempotent)."""
    if session.get(Site, "hq") is not None:
        return SeedSummary(False, 0, 0, 0, 0)
    hq = Site(
        id="hq",
        name="Stadskantoor",
        kind="central_office",
        address="Markt 1",
        city="Zwolle",
        latitude=52.5125,
        longitude=6.0944,
    )
    sat_site, sat_floor, sat_spaces = _satellite()
    session.add_all([hq, sat_site])
    # No ORM relationships, so flush parents first to satisfy the foreign keys.
    session.flush()
    floors: list[Floor] = []
    spaces: list[Space] = []
    for level in (1, 2, 3):
        floor, floor_spaces = _hq_floor(level)
        floors.append(floor)
        spaces += floor_spaces
    floors.append(sat_floor)
    spaces += sat_spaces
    session.add_all(floors)
    session.flush()
    session.add_all(spaces)
    session.flush()
    devices = []
    for number, space in enumerate(spaces, start=1):
        if space.kind == "desk":
            source = "radar" if space.quiet or number % 2 == 0 else "pir"
        else:
            source = "fused"
        devices.append(
            Device(
                id=f"d-{number:04d}",
                site_id=space.site_id,
                space_id=space.id,
                source=source,
                heartbeat_s=60,
            )
        )
    session.add_all(devices)
    session.commit()
    return SeedSummary(True, 2, len(floors), len(spaces), len(devices))


def list_devices(session: Session) -> list[DeviceInfo]:
    """List every assigned device with its space, for the demo's simulated fleet."""
    rows = session.execute(
        select(Device, Space).join(Space, Device.space_id == Space.id).order_by(Device.id)
    ).all()
    return [
        DeviceInfo(
            site=device.site_id,
            device_id=device.id,
            space_id=space.id,
            space_kind=space.kind,
            source=device.source,
            quiet=space.quiet,
        )
        for device, space in rows
    ]
