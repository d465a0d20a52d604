"""Floor drawings over HTTP: a GeoJSON upload is stored, read back and refused with a reason
when it breaks a rule (never a 500), on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from backend.spaces.drawing import MAX_FEATURES
from tests.backend.conftest import bearer

URL = "/api/v1/floors/hq-1/drawing"


def feature(kind: str, geometry: dict[str, Any], name: Any = None) -> dict[str, Any]:
    props: dict[str, Any] = {"kind": kind}
    if name is not None:
        props["name"] = name
    return {"type": "Feature", "geometry": geometry, "properties": props}


def box(x: float, y: float, w: float, h: float) -> dict[str, Any]:
    ring = [[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def drawing() -> dict[str, Any]:
    """A small valid floor: outer walls, a corridor, a room and every landmark."""
    return {
        "type": "FeatureCollection",
        "features": [
            feature(
                "wall", {"type": "LineString", "coordinates": [[0, 0], [1200, 0], [1200, 640]]}
            ),
            feature("corridor", box(20, 215, 1160, 50), {"nl": "Gang", "en": "Corridor"}),
            feature("room", box(40, 40, 320, 170)),
            feature("entrance", {"type": "Point", "coordinates": [600, 640]}, "Ingang"),
            feature("lift", box(1080, 40, 60, 60)),
            {
                "type": "Feature",
                "geometry": box(1080, 120, 60, 80),
                "properties": {"category": "stairs"},
            },  # fmt: skip
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [1150, 300]},
                "properties": {"category": "restroom.unisex", "name": "WC"},
            },  # fmt: skip
            feature("pantry", {"type": "Point", "coordinates": [1150, 400.04]}),
        ],
    }


def test_a_drawing_is_stored_and_read_back_by_a_screen(api, seeded, people):
    facility = bearer(people("facility", "fiona").token)
    sample = api.get(URL, headers=bearer(seeded.signage_token))
    assert sample.status_code == 200 and sample.json()["features"]  # the seeded drawing
    response = api.put(URL, json=drawing(), headers=facility)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "floor_id": "hq-1",
        "features": 8,
        "kinds": {"corridor": 1, "entrance": 1, "lift": 1, "pantry": 1, "room": 1,
                  "stairs": 1, "toilets": 1, "wall": 1},
    }  # fmt: skip
    read = api.get(URL, headers=bearer(seeded.signage_token))
    assert read.headers["content-type"] == "application/geo+json"
    features = read.json()["features"]
    assert [f["properties"]["kind"] for f in features] == [
        "wall", "corridor", "room", "entrance", "lift", "stairs", "toilets", "pantry",
    ]  # fmt: skip
    # Names become a language map; IMDF categories their kind; positions rounded to 0.1.
    assert features[1]["properties"]["name"] == {"nl": "Gang", "en": "Corridor"}
    assert features[3]["properties"]["name"] == {"nl": "Ingang", "en": "Ingang"}
    assert features[7]["geometry"] == {"type": "Point", "coordinates": [1150.0, 400.0]}
    # What was read back uploads again unchanged (round trip).
    again = api.put(URL, json=read.json(), headers=facility)
    assert again.status_code == 200 and api.get(URL, headers=facility).json() == read.json()
    other = api.get("/api/v1/floors/hq-2/drawing", headers=facility).json()
    assert other != read.json() and other["features"]  # each floor its own drawing
    assert api.delete(URL, headers=facility).status_code == 204
    empty = api.get(URL, headers=facility)
    assert empty.json() == {"type": "FeatureCollection", "features": []}


def test_only_facility_and_admin_upload(api, seeded, people):
    for token in (seeded.signage_token, people("employee", "emma").token):
        response = api.put(URL, json=drawing(), headers=bearer(token))
        assert (response.status_code, response.json()["reason"]) == (403, "role_not_allowed")
    response = api.put(
        "/api/v1/floors/hq-9/drawing", json=drawing(), headers=bearer(seeded.admin_token)
    )
    assert (response.status_code, response.json()["reason"]) == (404, "floor_not_found")


def _broken(change: str) -> Any:
    doc = drawing()
    features = doc["features"]
    if change == "not a collection":
        return {"type": "Feature", "features": []}
    if change == "foreign member":
        doc["styles"] = {}
    elif change == "feature member":
        features[0]["style"] = "red"
    elif change == "unknown property":
        features[0]["properties"]["colour"] = "red"
    elif change == "unknown kind":
        features[0]["properties"]["kind"] = "fountain"
    elif change == "kind and category":
        features[0]["properties"]["category"] = "wall"
    elif change == "wrong geometry for kind":
        features[2]["geometry"] = {"type": "Point", "coordinates": [10, 10]}
    elif change == "outside the plan":
        features[2]["geometry"]["coordinates"][0][1] = [1300, 40]
    elif change == "negative":
        features[3]["geometry"]["coordinates"] = [-1, 5]
    elif change == "not finite":
        features[3]["geometry"]["coordinates"] = [float("nan"), 5]
    elif change == "3d position":
        features[3]["geometry"]["coordinates"] = [5, 5, 0]
    elif change == "text coordinate":
        features[3]["geometry"]["coordinates"] = ["5", 5]
    elif change == "open ring":
        features[2]["geometry"]["coordinates"][0][-1] = [41, 40]
    elif change == "short line":
        features[0]["geometry"]["coordinates"] = [[0, 0]]
    elif change == "extra geometry member":
        features[0]["geometry"]["bbox"] = [0, 0, 1, 1]
    elif change == "long name":
        features[1]["properties"]["name"] = "x" * 61
    elif change == "control character":
        features[1]["properties"]["name"] = "Gang\u0007"
    elif change == "broken text":
        features[1]["properties"]["name"] = "Gang\ud800"
    elif change == "unknown language":
        features[1]["properties"]["name"] = {"de": "Flur"}
    elif change == "too many features":
        doc["features"] = [copy.deepcopy(features[3]) for _ in range(MAX_FEATURES + 1)]
    elif change == "too many positions":
        line = [[i % 1000, i % 600] for i in range(2000)]
        doc["features"] = [feature("wall", {"type": "LineString", "coordinates": line})] * 26
    return doc


# The checks happen before any database work: one database is enough.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("change", "reason", "where"),
    [
        ("not a collection", "drawing_not_geojson", "document"),
        ("foreign member", "drawing_unknown_property", "styles"),
        ("feature member", "drawing_unknown_property", "features[0]"),
        ("unknown property", "drawing_unknown_property", "'colour'"),
        ("unknown kind", "drawing_bad_kind", "'fountain'"),
        ("kind and category", "drawing_bad_kind", "features[0].properties"),
        ("wrong geometry for kind", "drawing_bad_geometry", "features[2].geometry"),
        ("outside the plan", "drawing_out_of_bounds", "features[2].geometry.coordinates[0][1]"),
        ("negative", "drawing_out_of_bounds", "x -1"),
        ("not finite", "drawing_out_of_bounds", "features[3]"),
        ("3d position", "drawing_bad_geometry", "[x, y]"),
        ("text coordinate", "drawing_bad_geometry", "not a number"),
        ("open ring", "drawing_bad_geometry", "end where it starts"),
        ("short line", "drawing_bad_geometry", "features[0].geometry.coordinates"),
        ("extra geometry member", "drawing_bad_geometry", "exactly"),
        ("long name", "drawing_bad_name", "features[1].properties.name"),
        ("control character", "drawing_bad_name", "control"),
        ("broken text", "drawing_bad_name", "broken text"),
        ("unknown language", "drawing_bad_name", "features[1].properties.name"),
        ("too many features", "drawing_too_large", "2000"),
        ("too many positions", "drawing_too_large", "50000"),
    ],
)
def test_a_bad_drawing_is_refused_with_a_reason_and_the_place(api, seeded, change, reason, where):
    admin = bearer(seeded.admin_token)
    api.put(URL, json=drawing(), headers=admin)
    # Serialised by hand: httpx refuses NaN, which Python's JSON (and a CAD export) writes.
    response = api.put(
        URL,
        content=json.dumps(_broken(change)),
        headers={**admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["reason"] == reason, body
    assert where in body["detail"], body
    # The drawing before stays as it was.
    assert len(api.get(URL, headers=admin).json()["features"]) == 8


# The checks happen before any database work: one database is enough.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'"text"', b"{" * 5000, b"\xff\xfe"],
    ids=["text", "array", "string", "deep", "binary"],
)
def test_an_unreadable_upload_is_a_4xx_not_a_500(api, seeded, body):
    response = api.put(
        URL,
        content=body,
        headers={**bearer(seeded.admin_token), "Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["reason"]


def test_the_seeded_floors_have_drawings_with_every_landmark(api, seeded):
    token = bearer(seeded.signage_token)
    for floor in ("hq-1", "hq-2", "hq-3", "dalfsen-0"):
        features = api.get(f"/api/v1/floors/{floor}/drawing", headers=token).json()["features"]
        kinds = {f["properties"]["kind"] for f in features}
        expected = {"wall", "corridor", "entrance", "toilets", "pantry"}
        if floor.startswith("hq"):
            expected |= {"lift", "stairs"}
        assert expected <= kinds, (floor, kinds)
        # Every landmark carries a name in both languages, for the screens' labels.
        for f in features:
            if f["properties"]["kind"] not in ("wall", "corridor"):
                assert set(f["properties"]["name"] or {}) == {"nl", "en"}, (floor, f)


SVG = b"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 64">
  <title>Verdieping 1</title>
  <g>
    <path data-kind="wall" d="M1 1 H119 V63 H1 Z" fill="none"/>
    <line class="wall thick" x1="1" y1="21.8" x2="106" y2="21.8"/>
    <rect data-kind="corridor" data-name-nl="Gang" data-name-en="Corridor"
          x="1.2" y="22" width="117.6" height="5.4"/>
    <polygon data-kind="lift" data-name="Lift" points="107,2 112,2 112,10 107,10"/>
    <circle data-kind="entrance" data-name="Ingang" cx="65" cy="63" r="2"/>
    <rect x="50" y="50" width="3" height="3"/>
    <text x="5" y="5">Not a shape: ignored</text>
  </g>
</svg>"""


def put_svg(api: Any, token: str, body: bytes, floor: str = "hq-1") -> Any:
    headers = {**bearer(token), "Content-Type": "image/svg+xml"}
    return api.put(f"/api/v1/floors/{floor}/drawing/svg", content=body, headers=headers)


def test_an_svg_export_becomes_the_drawing_scaled_onto_the_plan(api, seeded):
    response = put_svg(api, seeded.admin_token, SVG)
    assert response.status_code == 200, response.text
    assert response.json()["kinds"] == {"corridor": 1, "entrance": 1, "lift": 1, "wall": 2}
    features = api.get(URL, headers=bearer(seeded.signage_token)).json()["features"]
    by_kind = {f["properties"]["kind"]: f for f in features}
    # viewBox 120 x 64 onto the plan's 1200 x 640: every coordinate times ten.
    assert by_kind["entrance"]["geometry"] == {"type": "Point", "coordinates": [650.0, 630.0]}
    assert by_kind["lift"]["geometry"]["coordinates"][0][2] == [1120.0, 100.0]
    assert by_kind["corridor"]["properties"]["name"] == {"nl": "Gang", "en": "Corridor"}
    assert by_kind["corridor"]["geometry"]["coordinates"][0][0] == [12.0, 220.0]
    walls = [f["geometry"] for f in features if f["properties"]["kind"] == "wall"]
    assert {"type": "LineString", "coordinates": [[10.0, 218.0], [1060.0, 218.0]]} in walls
    # A closed path of a kind that may be a polygon is one.
    ring = [[10, 10], [1190, 10], [1190, 630], [10, 630], [10, 10]]
    assert {"type": "Polygon", "coordinates": [ring]} in walls


def svg(inner: str, attrs: str = "") -> bytes:
    return f'<svg xmlns="http://www.w3.org/2000/svg" {attrs}>{inner}</svg>'.encode()


# The checks happen before any database work: one database is enough.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<svg", "svg_not_svg"),
        (b"not xml at all", "svg_not_svg"),
        (b'<html xmlns="http://www.w3.org/1999/xhtml"/>', "svg_not_svg"),
        (b'<!DOCTYPE svg [<!ENTITY a "aaaa">]>' + svg("&a;"), "svg_forbidden"),
        (svg("<script>alert(1)</script>"), "svg_forbidden"),
        (svg('<rect onclick="x()" data-kind="room"/>'), "svg_forbidden"),
        (svg("<foreignObject/>"), "svg_forbidden"),
        (svg('<g transform="scale(2)"/>'), "svg_transform"),
        (svg("", 'viewBox="0 0 0 10"'), "svg_not_svg"),
        (svg('<path data-kind="wall" d="M0 0 C1 1 2 2 3 3"/>'), "svg_bad_shape"),
        (svg('<polyline data-kind="wall" points="1 2 3"/>'), "svg_bad_shape"),
        (svg('<rect data-kind="fountain" width="1" height="1"/>'), "drawing_bad_kind"),
        (svg('<circle data-kind="lift" cx="11"/>', 'viewBox="0 0 10 10"'), "drawing_out_of_bounds"),
    ],
    ids=[
        "unclosed",
        "text",
        "html",
        "entity",
        "script",
        "handler",
        "foreign",
        "transform",
        "viewbox",
        "curve",
        "odd",
        "kind",
        "outside",
    ],  # fmt: skip
)
def test_a_bad_or_unsafe_svg_is_refused_with_a_reason(api, seeded, body, reason):
    response = put_svg(api, seeded.admin_token, body)
    assert response.status_code == 422, response.text
    assert response.json()["reason"] == reason, response.json()
    assert len(api.get(URL, headers=bearer(seeded.admin_token)).json()["features"]) > 0
