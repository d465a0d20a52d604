"""The signage page in a real Chromium against a running backend and a real Mosquitto."""

from __future__ import annotations

import time

import pytest

from contract import space_state_topic
from tests.backend.helpers import MqttProbe
from tests.backend.test_mqtt_live import state_message
from tests.services import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def state_of(page, space_id: str) -> str | None:
    return page.get_attribute(f'[data-space-id="{space_id}"]', "data-state")


def words(page, space_id: str) -> str:
    """The state in words, as a screen reader says it: "Werkplek 1.02: Vrij" -> "Vrij"."""
    label = page.get_attribute(f'[data-space-id="{space_id}"]', "aria-label") or ""
    return label.split(": ", 1)[-1]


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
        page.wait_for_selector('[data-space-id="hq.1.d-002"][data-state="free"]', timeout=30_000)
        assert page.locator("[data-space-id]").count() == 44
        # Never colour alone: an icon on the tile and the state in words in its name (a desk
        # tile shows its number; rooms also show the word).
        assert state_of(page, "hq.1.d-001") == "unknown"
        assert words(page, "hq.1.d-001") == "Onbekend"
        assert words(page, "hq.1.d-002") == "Vrij"
        assert page.text_content('[data-space-id="hq.1.d-002"] .desk-no') == "1.02"
        assert page.text_content('[data-space-id="hq.1.r-02"] .state-text') == "Vrij"
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
        page.wait_for_selector(
            '[data-space-id="hq.1.d-001"][data-state="occupied"]', timeout=30_000
        )
        took = time.monotonic() - sent
        print(f"publish -> occupied on screen: {took * 1000:.0f} ms")
        assert words(page, "hq.1.d-001") == "Bezet"
        assert "Bezet" in page.get_attribute('[data-space-id="hq.1.d-001"]', "aria-label")
        # Polled from Python: a string predicate is eval'd in the page, which the CSP refuses.
        wait_until(
            lambda: "Werkplek 1.01 is nu bezet" in (page.text_content("#announcer") or ""), 2
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
    wait_until(lambda: page.text_content("#status-text") == "Live", 30, what="Live")
    assert page.text_content("#floor-name") == "Verdieping 2"
    assert words(page, "hq.2.d-001") == "Unknown"
    broker.stop()
    wait_until(lambda: page.text_content("#status-text") == "Sensors not reachable", 5)
    assert page.get_attribute("#status", "data-status") == "nosensors"
    backend.server.should_exit = True
    time.sleep(0.15)
    backend.runtime.close_streams()
    wait_until(lambda: (page.text_content("#status-text") or "").startswith("No connection"), 10)
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
        page.wait_for_selector('[data-space-id="hq.1.d-002"][data-state="free"]', timeout=30_000)
        start, end = local_range(60)
        httpx.post(
            f"{backend.base_url}/api/v1/bookings",
            json={"space_id": "hq.1.d-002", "start": start, "end": end},
            headers=bearer(ann.token),
            timeout=30,
        ).raise_for_status()
        page.wait_for_selector('[data-space-id="hq.1.d-002"][data-state="booked"]', timeout=30_000)
        # Not by colour alone: text and icon say it too; never who booked it.
        assert words(page, "hq.1.d-002").startswith("Gereserveerd")
        assert page.get_attribute('[data-space-id="hq.1.d-002"] use', "href") == "#icon-booked"
        assert "Ann" not in page.text_content("body")
        assert page.text_content("#count-desks").startswith("0 van 40 werkplekken vrij")
    finally:
        probe.close()
