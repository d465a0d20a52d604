"""Floor drawings from SVG: shapes marked with a kind become GeoJSON features, nothing else.

Many CAD tools export SVG. A shape counts when it says what it is with
``data-kind="wall"`` (or a class of that name; the kinds of ``drawing.py``) and may
carry ``data-name`` (or ``data-name-nl`` / ``data-name-en``). Supported shapes:
``rect``, ``line``, ``polyline``, ``polygon``, ``circle`` (a point: its centre) and
``path`` with straight segments only (``M L H V Z``, absolute or relative). The
``viewBox`` is scaled onto the floor's plan.

Sanitising is by construction: the SVG is never stored or served. Only the
coordinates and names read from marked shapes go on, as GeoJSON, through the same
checks as a GeoJSON upload. A document type or entity (the way to billion-laughs
and external-file attacks), a script, event handler, foreign object, link or
``transform`` (which this reader cannot honour) is refused with a reason.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from backend.errors import InvalidInput
from backend.spaces.drawing import GEOMETRIES

MAX_BYTES = 1_000_000
_SVG = "{http://www.w3.org/2000/svg}"
_FORBIDDEN = frozenset(
    {"script", "foreignObject", "iframe", "embed", "object", "a", "use", "image"}
)
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PATH_TOKEN = re.compile(rf"[MmLlHhVvZz]|{_NUMBER}|[\s,]+|(.)")


def _fail(problem: str, reason: str) -> InvalidInput:
    return InvalidInput(f"svg: {problem}", reason=reason)


def _local(tag: Any) -> str:
    return tag[len(_SVG) :] if isinstance(tag, str) and tag.startswith(_SVG) else str(tag)


def _numbers(text: str | None, where: str) -> list[float]:
    values = re.split(r"[\s,]+", (text or "").strip())
    try:
        return [float(v) for v in values if v]
    except ValueError:
        raise _fail(f"{where}: not a list of numbers", "svg_bad_shape") from None


def _number(node: ET.Element, name: str) -> float:
    found = _numbers(node.get(name, "0"), f"<{_local(node.tag)}> {name}")
    if len(found) != 1:
        raise _fail(f"<{_local(node.tag)}> {name} is not one number", "svg_bad_shape")
    return found[0]


def _pairs(values: list[float], where: str) -> list[list[float]]:
    if len(values) % 2:
        raise _fail(f"{where}: an odd count of coordinates", "svg_bad_shape")
    return [[values[i], values[i + 1]] for i in range(0, len(values), 2)]


def _path(d: str) -> list[list[list[float]]]:
    """Straight-line path data as lines (each a list of points; closed ones end at their start)."""
    lines: list[list[list[float]]] = []
    x = y = 0.0
    command = ""
    numbers: list[float] = []

    def flush() -> None:
        nonlocal x, y
        rel = command.islower()
        kind = command.upper()
        step = {"M": 2, "L": 2, "H": 1, "V": 1}.get(kind, 0)
        if kind == "Z" or not command:
            return
        if not numbers or len(numbers) % step:
            raise _fail(f"path: {command} needs {step} numbers per point", "svg_bad_shape")
        for i in range(0, len(numbers), step):
            if kind in ("M", "L"):
                nx, ny = numbers[i], numbers[i + 1]
                x, y = (x + nx, y + ny) if rel else (nx, ny)
            elif kind == "H":
                x = x + numbers[i] if rel else numbers[i]
            else:
                y = y + numbers[i] if rel else numbers[i]
            if kind == "M" and i == 0:
                lines.append([[x, y]])
            elif lines:
                lines[-1].append([x, y])
            else:
                raise _fail("path: data must start with M", "svg_bad_shape")

    for match in _PATH_TOKEN.finditer(d):
        token = match.group(0)
        if match.group(1) is not None:
            raise _fail(f"path: only straight segments (M L H V Z), not {token!r}", "svg_bad_shape")
        if token.strip(" \t\r\n,") == "":
            continue
        if token.isalpha():
            flush()
            command, numbers = token, []
            if token in "Zz" and lines:
                start = list(lines[-1][0])
                lines[-1].append(start)
                lines.append([list(start)])
                x, y = start
        else:
            numbers.append(float(token))
    flush()
    return [line for line in lines if len(line) > 1]


def _geometry(node: ET.Element, kind: str) -> dict[str, Any]:
    tag = _local(node.tag)
    if tag == "rect":
        x, y, w, h = (_number(node, a) for a in ("x", "y", "width", "height"))
        ring = [[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]
        return {"type": "Polygon", "coordinates": [ring]}
    if tag == "circle":
        return {"type": "Point", "coordinates": [_number(node, "cx"), _number(node, "cy")]}
    if tag == "line":
        ends = [
            [_number(node, "x1"), _number(node, "y1")],
            [_number(node, "x2"), _number(node, "y2")],
        ]
        return {"type": "LineString", "coordinates": ends}
    if tag in ("polyline", "polygon"):
        points = _pairs(_numbers(node.get("points"), f"<{tag}> points"), f"<{tag}> points")
        if tag == "polygon" and points:
            return {"type": "Polygon", "coordinates": [[*points, points[0]]]}
        return {"type": "LineString", "coordinates": points}
    lines = _path(node.get("d", ""))
    closed = [line for line in lines if len(line) > 3 and line[0] == line[-1]]
    if "Polygon" in GEOMETRIES[kind] and closed and len(closed) == len(lines):
        return {"type": "Polygon", "coordinates": closed}
    return {"type": "MultiLineString", "coordinates": lines}


def _kind(node: ET.Element) -> str | None:
    marked = node.get("data-kind")
    if marked is None:
        marked = next((c for c in node.get("class", "").split() if c in GEOMETRIES), None)
    return marked


def _name(node: ET.Element) -> Any:
    nl, en, both = node.get("data-name-nl"), node.get("data-name-en"), node.get("data-name")
    if nl or en:
        return {k: v for k, v in (("nl", nl or en), ("en", en or nl)) if v}
    return both


def svg_to_geojson(body: bytes, width: float, height: float) -> dict[str, Any]:
    """Read the marked shapes of an SVG as a GeoJSON FeatureCollection in plan units.

    Raises:
        InvalidInput: ``svg_*`` reasons (not SVG, forbidden content, a shape it cannot read).
    """
    if len(body) > MAX_BYTES:
        raise _fail(f"larger than {MAX_BYTES} bytes", "drawing_too_large")
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise _fail("a document type or entity is not accepted", "svg_forbidden")
    try:
        root = ET.fromstring(body)
    except (ET.ParseError, ValueError) as exc:
        raise _fail(f"not well-formed XML ({str(exc)[:80]})", "svg_not_svg") from None
    if _local(root.tag) != "svg":
        raise _fail("the root element is not <svg>", "svg_not_svg")
    box = _numbers(
        root.get("viewBox") or f"0 0 {root.get('width', width)} {root.get('height', height)}",
        "viewBox",
    )
    if len(box) != 4 or box[2] <= 0 or box[3] <= 0:
        raise _fail("viewBox is not 'x y width height'", "svg_not_svg")
    sx, sy = width / box[2], height / box[3]
    features = []
    for node in root.iter():
        tag = _local(node.tag)
        if tag in _FORBIDDEN or any(a.lower().startswith("on") for a in node.attrib):
            raise _fail(
                f"<{tag}> with scripts, links or outside content is not accepted", "svg_forbidden"
            )
        if "transform" in node.attrib:
            raise _fail(
                f"<{tag}> has a transform; export the drawing without transforms", "svg_transform"
            )
        kind = (
            _kind(node)
            if tag in ("rect", "circle", "line", "polyline", "polygon", "path")
            else None
        )
        if kind is None:
            continue
        if kind not in GEOMETRIES:
            raise _fail(
                f"<{tag}> data-kind {kind[:40]!r} is not one of {', '.join(GEOMETRIES)}",
                "drawing_bad_kind",
            )
        geometry = _scaled(_geometry(node, kind), box[0], box[1], sx, sy)
        props: dict[str, Any] = {"kind": kind}
        name = _name(node)
        if name is not None:
            props["name"] = name
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features}


def _scaled(geometry: dict[str, Any], x0: float, y0: float, sx: float, sy: float) -> dict[str, Any]:
    def walk(value: Any) -> Any:
        if value and isinstance(value[0], float | int):
            return [round((value[0] - x0) * sx, 1), round((value[1] - y0) * sy, 1)]
        return [walk(v) for v in value]

    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}
