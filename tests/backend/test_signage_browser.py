"""The signage page in a real Chromium against a running backend and a real Mosquitto."""

from __future__ import annotations

import time

import pytest

from tests.backend.helpers import MqttProbe
from tests.backend.test_mqtt_live import state_message
from werkplek.contract import space_state_topic

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def state_of(page, space_id: str) -> str | None:
    return page.get_attribute(f'[data-space-id="{space_id}"]', "data-state")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_space_turns_occupied_on_screen(seeded, serve, mosquitto_factory, page):
    broker = mosquitto_factory()
    probe = MqttProbe(broker.host, broker.port)
    probe.publish(space_state_topic("hq", "hq.1.d-002"), state_message("hq.1.d-002", "vacant"))
    probe.publish(space_state_topic("hq", "hq.1.r-02"), state_message("hq.1.r-02", "vacant"))
    backend = serve(seeded.settings(mqtt_enabled=True, mqtt_url=broker.url))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{backend.base_url}/signage/?site=hq&floor=hq-1#token={seeded.signage_token}")
        page.wait_for_selector('[data-space-id="hq.1.d-002"][data-state="free"]', timeout=10_000)
        assert page.locator("[data-space-id]").count() == 44
        # Never colour alone: state also as text (and icon) inside the element.
        assert state_of(page, "hq.1.d-001") == "unknown"
        assert page.text_content('[data-space-id="hq.1.d-001"] .state-text') == "Onbekend"
        assert page.text_content('[data-space-id="hq.1.d-002"] .state-text') == "Vrij"
        assert page.get_attribute('[data-space-id="hq.1.d-002"] use', "href") == "#icon-free"
        assert page.text_content("#status-text") == "Actueel"
        assert page.text_content("#count-desks").startswith("1 van 40 werkplekken vrij")
        assert "Overleg 1.02" in page.text_content("#rooms")
        assert "Verdieping 2" in page.text_content("#other-floors")
        assert "Servicepunt Dalfsen" in page.text_content("#other-sites")

        sent = time.monotonic()
        probe.publish(
            space_state_topic("hq", "hq.1.d-001"), state_message("hq.1.d-001", "occupied")
        )
        page.wait_for_selector('[data-space-id="hq.1.d-001"][data-state="occupied"]', timeout=5_000)
        took = time.monotonic() - sent
        print(f"publish -> occupied on screen: {took * 1000:.0f} ms")
        assert page.text_content('[data-space-id="hq.1.d-001"] .state-text') == "Bezet"
        assert "Bezet" in page.get_attribute('[data-space-id="hq.1.d-001"]', "aria-label")
        page.wait_for_function(
            "document.getElementById('announcer').textContent"
            ".includes('Werkplek 1.01 is nu bezet')",
            timeout=2_000,
        )
        # Readable without scrolling on a 1920x1080 screen.
        assert page.evaluate("document.documentElement.scrollHeight") <= 1080
        assert page.evaluate("document.documentElement.scrollWidth") <= 1920
        assert errors == []
    finally:
        probe.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_lost_backend_is_shown_in_text_and_english_works(seeded, serve, mosquitto_factory, page):
    broker = mosquitto_factory()
    backend = serve(seeded.settings(mqtt_enabled=True, mqtt_url=broker.url))
    page.goto(
        f"{backend.base_url}/signage/?site=hq&floor=hq-2&lang=en#token={seeded.signage_token}"
    )
    page.wait_for_function("document.getElementById('status-text').textContent === 'Live'")
    assert page.text_content("#floor-name") == "Verdieping 2"
    assert page.text_content('[data-space-id="hq.2.d-001"] .state-text') == "Unknown"
    broker.stop()
    page.wait_for_function(
        "document.getElementById('status-text').textContent === 'Sensors not reachable'",
        timeout=5_000,
    )
    assert page.get_attribute("#status", "data-status") == "nosensors"
    backend.server.should_exit = True
    time.sleep(0.15)
    backend.runtime.close_streams()
    page.wait_for_function(
        "document.getElementById('status-text').textContent.startsWith('No connection')",
        timeout=10_000,
    )
    assert page.get_attribute("#status", "data-status") == "offline"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_page_without_token_explains_itself(seeded, serve, page):
    backend = serve(seeded.settings())
    page.goto(f"{backend.base_url}/signage/?site=hq&floor=hq-1")
    page.wait_for_selector("#message:not([hidden])")
    assert "toegangscode" in page.text_content("#message")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_booking_shows_as_booked_on_screen(seeded, serve, mosquitto_factory, page, people):
    import httpx

    from tests.backend.conftest import always_open, bearer
    from tests.backend.test_bookings_api import local_range

    always_open(seeded.url)
    broker = mosquitto_factory()
    probe = MqttProbe(broker.host, broker.port)
    probe.publish(space_state_topic("hq", "hq.1.d-002"), state_message("hq.1.d-002", "vacant"))
    backend = serve(seeded.settings(mqtt_enabled=True, mqtt_url=broker.url))
    ann = people("employee", "ann")
    try:
        page.goto(f"{backend.base_url}/signage/?site=hq&floor=hq-1#token={seeded.signage_token}")
        page.wait_for_selector('[data-space-id="hq.1.d-002"][data-state="free"]', timeout=10_000)
        start, end = local_range(60)
        httpx.post(
            f"{backend.base_url}/api/v1/bookings",
            json={"space_id": "hq.1.d-002", "start": start, "end": end},
            headers=bearer(ann.token),
        ).raise_for_status()
        page.wait_for_selector('[data-space-id="hq.1.d-002"][data-state="booked"]', timeout=5_000)
        # Not by colour alone: text and icon say it too; never who booked it.
        assert page.text_content('[data-space-id="hq.1.d-002"] .state-text') == "Gereserveerd"
        assert page.get_attribute('[data-space-id="hq.1.d-002"] use', "href") == "#icon-booked"
        assert "Ann" not in page.text_content("body")
        assert page.text_content("#count-desks").startswith("0 van 40 werkplekken vrij")
    finally:
        probe.close()
