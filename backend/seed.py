"""A believable sample municipality for the demo and the tests.

"Stadskantoor" (hq): three floors, each with four rooms along the north wall, a
corridor below them, three desk zones (A, B and a quiet zone "Stilte") with an
aisle between their benches, and a core in the north-east corner with lift,
stairs and toilets; plus the satellite "Servicepunt Dalfsen" with one small
floor. Every floor gets a drawing (walls, corridors, landmarks) as a facility
team would upload it, checked by the same rules. Every space gets one sensor
node: radar or PIR on desks, fused nodes in rooms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.spaces.drawing import parse_drawing
from backend.spaces.models import Device, Floor, FloorDrawing, Site, Space

PLAN_W, PLAN_H = 1200.0, 640.0
#: A desk tile holds its state word above its number, legible from 3 m.
DESK_W, DESK_H = 90.0, 64.0
#: Where each site's floor screens hang on the sample plans (``here=x,y`` in the screen's
#: link): in the corridor, near the lift lobby (hq) or the entrance (Dalfsen).
SCREEN_SPOTS = {"hq": (960.0, 247.0), "dalfsen": (420.0, 239.0)}
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
    for row_y in (280.0, 348.0, 484.0, 552.0):
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
                x=60.0 + (n % 3) * 94.0 if n < 5 else 400.0 + (n - 5) * 94.0,
                y=280.0 + (n // 3) * 68.0 if n < 5 else 280.0,
                w=DESK_W,
                h=DESK_H,
            )
        )
    return site, floor, spaces


def _feature(kind: str, geometry: dict[str, Any], name: Any = None) -> dict[str, Any]:
    props: dict[str, Any] = {"kind": kind}
    if name is not None:
        props["name"] = name
    return {"type": "Feature", "geometry": geometry, "properties": props}


def _box(x1: float, y1: float, x2: float, y2: float) -> dict[str, Any]:
    ring = [[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]
    return {"type": "Polygon", "coordinates": [ring]}


def _walls(*lines: list[list[float]]) -> dict[str, Any]:
    return _feature("wall", {"type": "MultiLineString", "coordinates": list(lines)})


def _hq_drawing(level: int) -> dict[str, Any]:
    """One hq floor as its CAD export would look: walls with door gaps, corridors, the core."""
    # The main entrance is a gap in the south wall of the first floor.
    south: list[list[list[float]]] = (
        [[[1190, 630], [680, 630]], [[620, 630], [10, 630]]]
        if level == 1
        else [[[1190, 630], [10, 630]]]
    )
    walls = _walls(
        [[10, 630], [10, 10], [1190, 10], [1190, 630]],
        *south,
        # The rooms' south wall, a door gap near each room's east end.
        [[10, 218], [320, 218]], [[350, 218], [580, 218]], [[610, 218], [800, 218]],
        [[830, 218], [1010, 218]], [[1040, 218], [1060, 218]],
        # Walls between the rooms, and the core with its lobby opening.
        [[370, 10], [370, 218]], [[630, 10], [630, 218]], [[850, 10], [850, 218]],
        [[1060, 10], [1060, 218]], [[1060, 218], [1095, 218]], [[1165, 218], [1190, 218]],
        [[1065, 105], [1190, 105]], [[1125, 10], [1125, 105]],
    )  # fmt: skip
    features = [
        walls,
        _feature("corridor", _box(12, 220, 1188, 274), {"nl": "Gang", "en": "Corridor"}),
        _feature("corridor", _box(12, 414, 1188, 482)),
        _feature("lift", _box(1068, 18, 1120, 100), "Lift"),
        _feature("stairs", _box(1130, 18, 1184, 100), {"nl": "Trap", "en": "Stairs"}),
        _feature("toilets", _box(1068, 110, 1184, 212), {"nl": "Toiletten", "en": "Toilets"}),
        _feature("pantry", _box(222, 558, 394, 622), "Pantry"),
    ]
    if level == 1:
        features.append(
            _feature(
                "entrance",
                {"type": "Point", "coordinates": [650, 630]},
                {"nl": "Hoofdingang", "en": "Main entrance"},
            )
        )
    else:
        features.append(
            _feature(
                "entrance",
                {"type": "Point", "coordinates": [1130, 218]},
                {"nl": "Ingang", "en": "Entrance"},
            )
        )
    return {"type": "FeatureCollection", "features": features}


def _satellite_drawing() -> dict[str, Any]:
    """The service point: one room, a counter, toilets and a pantry around a small office."""
    walls = _walls(
        [[10, 10], [790, 10], [790, 470], [400, 470]], [[330, 470], [10, 470], [10, 10]],
        [[10, 208], [290, 208]], [[320, 208], [560, 208]], [[590, 208], [790, 208]],
        [[330, 10], [330, 208]], [[590, 10], [590, 208]], [[590, 110], [790, 110]],
    )  # fmt: skip
    return {
        "type": "FeatureCollection",
        "features": [
            walls,
            _feature("corridor", _box(12, 210, 788, 268), {"nl": "Gang", "en": "Corridor"}),
            _feature("room", _box(340, 20, 580, 198), {"nl": "Balie", "en": "Service desk"}),
            _feature("toilets", _box(600, 20, 780, 100), {"nl": "Toiletten", "en": "Toilets"}),
            _feature("pantry", _box(600, 120, 780, 198), "Pantry"),
            _feature(
                "entrance",
                {"type": "Point", "coordinates": [365, 470]},
                {"nl": "Ingang", "en": "Entrance"},
            ),
        ],
    }


def _drawing_row(floor: Floor, document: dict[str, Any]) -> FloorDrawing:
    # Through the upload's own checks, so the sample never shows what an upload could not.
    features = parse_drawing(document, floor.plan_width, floor.plan_height)
    return FloorDrawing(
        floor_id=floor.id,
        features=json.dumps(features, separators=(",", ":")),
        feature_count=len(features),
    )


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
    session.add_all(
        [_drawing_row(f, _hq_drawing(f.level)) for f in floors if f.site_id == "hq"]
        + [_drawing_row(sat_floor, _satellite_drawing())]
    )
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
