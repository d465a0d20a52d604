"""Check-in QR codes: the SVG endpoint for facility management and what the code holds."""

from __future__ import annotations

import httpx
import pytest

from backend.spaces import qr
from tests.e2e.test_a11y import add_user
from tests.e2e.test_app import PASSWORD, running_backend

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _login(client: httpx.Client, username: str) -> dict[str, str]:
    token = client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    ).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_checkin_url_names_the_space_and_nothing_else():
    assert qr.checkin_url("https://werkplek.example/", "hq.1.d-001") == (
        "https://werkplek.example/app/?checkin=hq.1.d-001"
    )
    # Ids are URL-encoded, so an odd id cannot change the query.
    assert qr.checkin_url("http://h", "a&b c").endswith("/app/?checkin=a%26b+c")


def test_qr_svg_for_facility_only(tmp_path):
    with running_backend(tmp_path, "anna") as backend:
        add_user(backend.settings, "fenna", "facility")
        with httpx.Client(base_url=backend.url, timeout=30) as client:
            facility, employee = _login(client, "fenna"), _login(client, "anna")
            answer = client.get("/api/v1/spaces/hq.1.d-003/qr.svg", headers=facility)
            assert answer.status_code == 200
            assert answer.headers["content-type"].startswith("image/svg+xml")
            svg = answer.text
            assert svg.startswith("<svg") and "<title>Inchecken / check in: Werkplek 1.03" in svg
            # The drawing is exactly the QR code of the app's check-in URL for this desk.
            url = f"{backend.url}/app/?checkin=hq.1.d-003"
            assert answer.content == qr.qr_svg(url, "Inchecken / check in: Werkplek 1.03")
            refused = client.get("/api/v1/spaces/hq.1.d-003/qr.svg", headers=employee)
            assert refused.status_code == 403
            assert refused.json()["reason"] == "role_not_allowed"
            missing = client.get("/api/v1/spaces/nowhere/qr.svg", headers=facility)
            assert missing.status_code == 404 and missing.json()["reason"] == "space_not_found"
            assert client.get("/api/v1/spaces/hq.1.d-003/qr.svg").status_code == 401
