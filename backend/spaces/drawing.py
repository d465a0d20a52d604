"""Floor drawings from GeoJSON: walls, rooms, corridors and landmarks, checked strictly.

A facility team exports its CAD drawing as a GeoJSON ``FeatureCollection`` in the
floor's plan units (x to the right, y down, ``0..plan_width`` by ``0..plan_height``,
the units the spaces use). Each feature says what it is in ``properties.kind``
(or IMDF's ``category``, with IMDF's names accepted: ``walkway``, ``elevator``,
``restroom``, ``kitchen``...) and may carry a ``name``: a text, or IMDF's
language map ``{"nl": "...", "en": "..."}``.

Everything else is refused with a reason and the place of the fault
(``features[3].geometry.coordinates[0][5]``): other geometry types for a kind,
positions outside the plan, unclosed rings, unknown property names, and files
beyond the size limits below. Nothing from the file is kept but the normalised
kind, name and geometry, so nothing a file smuggles in reaches a screen.
"""

from __future__ import annotations

import math
from typing import Any

from backend.errors import InvalidInput

#: What a drawing may show, and the geometry types each kind may have.
GEOMETRIES: dict[str, frozenset[str]] = {
    "wall": frozenset({"LineString", "MultiLineString", "Polygon"}),
    "room": frozenset({"Polygon", "MultiPolygon"}),
    "corridor": frozenset({"Polygon", "MultiPolygon"}),
    "entrance": frozenset({"Point", "Polygon"}),
    "lift": frozenset({"Point", "Polygon"}),
    "stairs": frozenset({"Point", "Polygon"}),
    "toilets": frozenset({"Point", "Polygon"}),
    "pantry": frozenset({"Point", "Polygon"}),
}
LANDMARKS = ("entrance", "lift", "stairs", "toilets", "pantry")
#: IMDF unit, opening and amenity categories that mean one of our kinds.
ALIASES = {
    "walkway": "corridor",
    "elevator": "lift",
    "escalator": "stairs",
    "stairwell": "stairs",
    "restroom": "toilets",
    "restroom.male": "toilets",
    "restroom.female": "toilets",
    "restroom.unisex": "toilets",
    "kitchen": "pantry",
    "pedestrian": "entrance",
    "office": "room",
    "conferenceroom": "room",
}
MAX_FEATURES = 2000
MAX_PARTS = 100
MAX_RING_POINTS = 2000
MAX_POINTS = 50_000
MAX_NAME = 60
LANGUAGES = ("nl", "en")
_FEATURE_KEYS = frozenset({"type", "id", "geometry", "properties"})
_PROPERTY_KEYS = frozenset({"kind", "category", "name"})
_TOP_KEYS = frozenset({"type", "features", "name", "crs", "bbox"})


def _fail(where: str, problem: str, reason: str) -> InvalidInput:
    return InvalidInput(f"{where}: {problem}", reason=reason)


class _Reader:
    """Walks one document, counting positions against the limit."""

    def __init__(self, width: float, height: float) -> None:
        self.width = width
        self.height = height
        self.points = 0

    def position(self, value: Any, where: str) -> list[float]:
        if not isinstance(value, list) or len(value) != 2:
            raise _fail(where, "a position is [x, y]", "drawing_bad_geometry")
        out = []
        for axis, number, limit in zip("xy", value, (self.width, self.height), strict=True):
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise _fail(where, f"{axis} is not a number", "drawing_bad_geometry")
            if not math.isfinite(number) or not 0 <= number <= limit:
                raise _fail(
                    where,
                    f"{axis} {number} is outside the plan (0..{limit:g})",
                    "drawing_out_of_bounds",
                )
            out.append(round(float(number), 1))
        self.points += 1
        if self.points > MAX_POINTS:
            raise _fail(where, f"more than {MAX_POINTS} positions", "drawing_too_large")
        return out

    def line(self, value: Any, where: str, *, ring: bool) -> list[list[float]]:
        least = 4 if ring else 2
        if not isinstance(value, list) or not least <= len(value) <= MAX_RING_POINTS:
            what = "ring" if ring else "line"
            raise _fail(
                where, f"a {what} has {least}..{MAX_RING_POINTS} positions", "drawing_bad_geometry"
            )
        points = [self.position(p, f"{where}[{i}]") for i, p in enumerate(value)]
        if ring and points[0] != points[-1]:
            raise _fail(where, "a ring must end where it starts", "drawing_bad_geometry")
        return points

    def polygon(self, value: Any, where: str) -> list[list[list[float]]]:
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_PARTS:
            raise _fail(where, f"a polygon has 1..{MAX_PARTS} rings", "drawing_bad_geometry")
        return [self.line(r, f"{where}[{i}]", ring=True) for i, r in enumerate(value)]

    def parts(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_PARTS:
            raise _fail(where, f"1..{MAX_PARTS} parts expected", "drawing_bad_geometry")
        return value

    def geometry(self, value: Any, kinds: frozenset[str], where: str) -> dict[str, Any]:
        if not isinstance(value, dict) or set(value) != {"type", "coordinates"}:
            raise _fail(
                where, "a geometry has exactly 'type' and 'coordinates'", "drawing_bad_geometry"
            )
        kind, coords, at = value["type"], value["coordinates"], f"{where}.coordinates"
        if kind not in kinds:
            allowed = ", ".join(sorted(kinds))
            raise _fail(
                where, f"type {str(kind)[:40]!r} is not one of {allowed}", "drawing_bad_geometry"
            )
        if kind == "Point":
            out: Any = self.position(coords, at)
        elif kind == "LineString":
            out = self.line(coords, at, ring=False)
        elif kind == "MultiLineString":
            parts = self.parts(coords, at)
            out = [self.line(p, f"{at}[{i}]", ring=False) for i, p in enumerate(parts)]
        elif kind == "Polygon":
            out = self.polygon(coords, at)
        else:
            parts = self.parts(coords, at)
            out = [self.polygon(p, f"{at}[{i}]") for i, p in enumerate(parts)]
        return {"type": kind, "coordinates": out}


def _name(value: Any, where: str) -> dict[str, str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dict.fromkeys(LANGUAGES, value)
    if not isinstance(value, dict) or not value or not set(value) <= set(LANGUAGES):
        raise _fail(where, "a name is a text or {'nl': ..., 'en': ...}", "drawing_bad_name")
    out = {}
    for lang, text in value.items():
        if not isinstance(text, str) or not 1 <= len(text.strip()) <= MAX_NAME:
            raise _fail(f"{where}.{lang}", f"1..{MAX_NAME} characters", "drawing_bad_name")
        if any(ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in text):
            raise _fail(f"{where}.{lang}", "control characters or broken text", "drawing_bad_name")
        out[lang] = text.strip()
    return out


def _kind(props: dict[str, Any], where: str) -> str:
    if "kind" in props and "category" in props:
        raise _fail(where, "give 'kind' or 'category', not both", "drawing_bad_kind")
    raw = props.get("kind", props.get("category"))
    kind = ALIASES.get(raw, raw) if isinstance(raw, str) else None
    if kind not in GEOMETRIES:
        allowed = ", ".join(GEOMETRIES)
        raise _fail(
            f"{where}.kind", f"{str(raw)[:40]!r} is not one of {allowed}", "drawing_bad_kind"
        )
    return str(kind)


def parse_drawing(document: Any, width: float, height: float) -> list[dict[str, Any]]:
    """Validate a GeoJSON FeatureCollection; return its features normalised.

    Raises:
        InvalidInput: with a ``drawing_*`` reason and the place of the first fault.
    """
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise _fail("document", "a GeoJSON FeatureCollection is expected", "drawing_not_geojson")
    extra = set(document) - _TOP_KEYS
    if extra:
        raise _fail(
            "document", f"unknown member {sorted(extra)[0][:40]!r}", "drawing_unknown_property"
        )
    features = document.get("features")
    if not isinstance(features, list):
        raise _fail("features", "a list of features is expected", "drawing_not_geojson")
    if len(features) > MAX_FEATURES:
        raise _fail("features", f"more than {MAX_FEATURES} features", "drawing_too_large")
    reader = _Reader(width, height)
    out = []
    for index, feature in enumerate(features):
        where = f"features[{index}]"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise _fail(where, "a GeoJSON Feature is expected", "drawing_not_geojson")
        extra = set(feature) - _FEATURE_KEYS
        if extra:
            raise _fail(
                where, f"unknown member {sorted(extra)[0][:40]!r}", "drawing_unknown_property"
            )
        props = feature.get("properties")
        if not isinstance(props, dict):
            raise _fail(f"{where}.properties", "an object is expected", "drawing_bad_kind")
        extra = set(props) - _PROPERTY_KEYS
        if extra:
            name = sorted(extra)[0][:40]
            raise _fail(
                f"{where}.properties", f"unknown property {name!r}", "drawing_unknown_property"
            )
        kind = _kind(props, f"{where}.properties")
        geometry = reader.geometry(feature.get("geometry"), GEOMETRIES[kind], f"{where}.geometry")
        name = _name(props.get("name"), f"{where}.properties.name")
        out.append({"kind": kind, "name": name, "geometry": geometry})
    return out


def as_geojson(features: list[dict[str, Any]]) -> dict[str, Any]:
    """Turn stored features back into a GeoJSON FeatureCollection."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": f["geometry"],
                "properties": {"kind": f["kind"], "name": f["name"]},
            }
            for f in features
        ],
    }
