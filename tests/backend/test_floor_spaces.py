"""Editing spaces on the plan over HTTP (facility, admin): create, update, delete, with every
refusal a 4xx with a reason, and each change in the snapshot screens get (``plan_rev``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.backend.conftest import always_open, bearer

NEW_DESK = {"id": "hq.1.d-900", "kind": "desk", "name": "Werkplek 1.90", "zone": "B",
            "quiet": False, "x": 1100, "y": 560, "w": 80, "h": 56}  # fmt: skip


def floor_view(api: Any, token: str, floor: str = "hq-1") -> tuple[int, dict[str, Any]]:
    """The floor's plan revision and its spaces as the availability snapshot shows them."""
    body = api.get(f"/api/v1/availability?site=hq&floor={floor}", headers=bearer(token)).json()
    rev = next(f["plan_rev"] for f in body["floors"] if f["floor"] == floor)
    return rev, {s["space_id"]: s for s in body["spaces"]}


def test_facility_creates_moves_renames_and_deletes_a_desk(api, seeded, people):
    fm = bearer(people("facility", "fiona").token)
    rev0, spaces = floor_view(api, seeded.signage_token)
    assert "hq.1.d-900" not in spaces and rev0 != 0
    created = api.post("/api/v1/floors/hq-1/spaces", json=NEW_DESK, headers=fm)
    assert created.status_code == 201, created.text
    assert created.json()["site_id"] == "hq" and created.json()["floor_id"] == "hq-1"
    # The screens' snapshot has it at once, with a new plan revision.
    rev1, spaces = floor_view(api, seeded.signage_token)
    assert spaces["hq.1.d-900"]["availability"] == "unknown" and rev1 != rev0
    moved = api.patch(
        "/api/v1/spaces/hq.1.d-900",
        json={"name": "Werkplek 1.91", "quiet": True, "zone": "stilte", "x": 1110},
        headers=fm,
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["x"], moved.json()["y"], moved.json()["name"]) == (
        1110,
        560,
        "Werkplek 1.91",
    )
    rev2, spaces = floor_view(api, seeded.signage_token)
    assert spaces["hq.1.d-900"]["name"] == "Werkplek 1.91" and spaces["hq.1.d-900"]["quiet"]
    assert rev2 not in (rev0, rev1)
    # A move alone (what only the plan shows) changes the revision too.
    api.patch("/api/v1/spaces/hq.1.d-900", json={"y": 570}, headers=fm)
    rev3, _ = floor_view(api, seeded.signage_token)
    assert rev3 != rev2
    listed = api.get("/api/v1/floors/hq-1/spaces", headers=bearer(seeded.signage_token)).json()
    assert next(s for s in listed if s["id"] == "hq.1.d-900")["y"] == 570
    assert api.delete("/api/v1/spaces/hq.1.d-900", headers=fm).status_code == 204
    rev4, spaces = floor_view(api, seeded.signage_token)
    assert "hq.1.d-900" not in spaces and rev4 == rev0
    again = api.delete("/api/v1/spaces/hq.1.d-900", headers=fm)
    assert (again.status_code, again.json()["reason"]) == (404, "space_not_found")


def test_a_drawing_upload_changes_the_plan_revision(api, seeded):
    admin = bearer(seeded.admin_token)
    rev0, _ = floor_view(api, seeded.signage_token, "hq-2")
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kind": "lift"},
         "geometry": {"type": "Point", "coordinates": [10, 10]}}]}  # fmt: skip
    assert api.put("/api/v1/floors/hq-2/drawing", json=doc, headers=admin).status_code == 200
    rev1, _ = floor_view(api, seeded.signage_token, "hq-2")
    assert rev1 != rev0


def test_refusals_have_reasons(api, seeded, people):
    fm = bearer(people("facility", "fiona").token)
    cases = [
        ("post", "/api/v1/floors/hq-1/spaces", {**NEW_DESK, "x": 1150}, 422, "space_outside_plan"),
        (
            "post",
            "/api/v1/floors/hq-1/spaces",
            {**NEW_DESK, "x": 30, "y": 280},
            409,
            "space_overlap",
        ),
        (
            "post",
            "/api/v1/floors/hq-1/spaces",
            {**NEW_DESK, "id": "hq.1.d-001"},
            409,
            "space_exists",
        ),
        ("post", "/api/v1/floors/hq-9/spaces", NEW_DESK, 404, "floor_not_found"),
        ("post", "/api/v1/floors/hq-1/spaces", {**NEW_DESK, "id": "Bad Id"}, 422, None),
        ("post", "/api/v1/floors/hq-1/spaces", {**NEW_DESK, "w": 5}, 422, None),
        ("post", "/api/v1/floors/hq-1/spaces", {**NEW_DESK, "zone": "a/b"}, 422, None),
        ("post", "/api/v1/floors/hq-1/spaces", {**NEW_DESK, "name": "x\n"}, 422, None),
        ("post", "/api/v1/floors/hq-1/spaces", {**NEW_DESK, "colour": 1}, 422, None),
        ("patch", "/api/v1/spaces/hq.1.d-001", {"name": None}, 422, "null_not_allowed"),
        ("patch", "/api/v1/spaces/hq.1.d-001", {"x": 116}, 409, "space_overlap"),
        ("patch", "/api/v1/spaces/hq.1.d-001", {"y": 600}, 422, "space_outside_plan"),
        ("patch", "/api/v1/spaces/hq.1.d-001", {"kind": "meeting_room"}, 422, None),
        ("patch", "/api/v1/spaces/nope", {"name": "x"}, 404, "space_not_found"),
    ]
    for method, url, body, status, reason in cases:
        response = getattr(api, method)(url, json=body, headers=fm)
        assert response.status_code == status, (url, body, response.text)
        assert response.json()["reason"], response.text
        if reason:
            assert response.json()["reason"] == reason, (body, response.text)
    desk = api.get("/api/v1/floors/hq-1/spaces", headers=fm).json()[0]
    assert (desk["id"], desk["x"], desk["y"], desk["name"]) == (
        "hq.1.d-001",
        32,
        280,
        "Werkplek 1.01",
    )
    # Screens and employees read, never edit.
    for token in (seeded.signage_token, people("employee", "emma").token):
        response = api.patch("/api/v1/spaces/hq.1.d-001", json={"name": "x"}, headers=bearer(token))
        assert (response.status_code, response.json()["reason"]) == (403, "role_not_allowed")


def test_a_space_with_a_coming_booking_stays_and_its_sensor_is_freed_on_delete(api, seeded, people):
    always_open(seeded.url)
    ann = people("employee", "ann")
    fm = bearer(people("facility", "fiona").token)
    start = (dt.datetime.now() + dt.timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    booked = api.post(
        "/api/v1/bookings",
        json={
            "space_id": "hq.1.d-002",
            "start": start.isoformat(),
            "end": (start + dt.timedelta(hours=2)).isoformat(),
        },  # fmt: skip
        headers=bearer(ann.token),
    )
    assert booked.status_code == 201, booked.text
    refused = api.delete("/api/v1/spaces/hq.1.d-002", headers=fm)
    assert (refused.status_code, refused.json()["reason"]) == (409, "space_has_bookings")
    assert api.delete(
        f"/api/v1/bookings/{booked.json()['id']}", headers=bearer(ann.token)
    ).status_code in (200, 204)
    assert api.delete("/api/v1/spaces/hq.1.d-002", headers=fm).status_code == 204
    assert seeded.query("SELECT space_id FROM device WHERE id = 'd-0002'") == [(None,)]
    publisher = api.app.state.runtime.publisher
    assert publisher.messages()["werkplek/v1/hq/_registry/d-0002"] == b""
