"""A central signage screen of a satellite site whose line is down: "Onbekend" since when."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from contract import space_state_topic
from contract.bridge import bridge_state_topic
from tests.backend.helpers import MqttProbe
from tests.backend.test_mqtt_live import state_message
from tests.services import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.browser]

DESKS = [f"dalfsen.0.d-{n:03d}" for n in range(1, 9)]


def states(page) -> set[str | None]:
    return {page.get_attribute(f'[data-space-id="{sid}"]', "data-state") for sid in DESKS}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_screen_says_unknown_since_the_link_was_lost(seeded, serve, mosquitto_factory, page):
    broker = mosquitto_factory()
    probe = MqttProbe(broker.host, broker.port)
    try:
        probe.publish("werkplek/v1/_gateway/gw-1/status", b"online")
        for sid in DESKS:
            probe.publish(
                space_state_topic("dalfsen", sid), state_message(sid, "vacant", "dalfsen")
            )
        backend = serve(seeded.settings(mqtt_enabled=True, mqtt_url=broker.url))
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(
            f"{backend.base_url}/signage/?site=dalfsen&floor=dalfsen-0#token={seeded.signage_token}"
        )
        wait_until(lambda: states(page) == {"free"}, 30, 0.1, what="every desk free")
        assert page.text_content("#count-desks").startswith("8 van 8 werkplekken vrij")

        probe.publish(bridge_state_topic("dalfsen"), b"0")
        lost = datetime.now(ZoneInfo("Europe/Amsterdam"))
        wait_until(lambda: states(page) == {"unknown"}, 30, 0.1, what="every desk unknown")
        assert page.get_attribute("#headline", "data-mode") == "unknown"
        assert page.text_content("#count-quiet") == "Onbekend"  # never "0"
        label = page.text_content("#count-quiet-label") or ""
        assert "sensoren niet bereikbaar sinds" in label
        # The time the centre learned of it (this minute, or the next if it just turned).
        minutes = [lost, lost + timedelta(minutes=1)]
        assert any(f"{m.hour}:{m.minute:02d}" in label for m in minutes), label
        assert page.text_content("#count-desks") == "8 werkplekken: onbekend"
        label = page.get_attribute(f'[data-space-id="{DESKS[0]}"]', "aria-label") or ""
        assert label.endswith("Onbekend")  # in words, not by colour alone

        probe.publish(bridge_state_topic("dalfsen"), b"1")
        wait_until(lambda: states(page) == {"free"}, 30, 0.1, what="free again after the heal")
        assert errors == []
    finally:
        probe.close()
