"""Wayfinding scenarios as people do them, in Chromium against one served backend per module.

At 390x844 and 1920x1080, in Dutch and English: a person at the floor screen sees where they
stand ("U bent hier") on a real plan (walls, lift, stairs, toilets, pantry, entrance), reads
the first free quiet desk from the list and finds its tile by number and state word; books
that desk in the app through the confirmation sheet, after which the floor screen shows it
booked; and books the meeting room now on its door panel. A facility manager marks a used desk
cleaned. An edit of the plan by facility reaches an open floor screen without a reload. Axe
finds nothing serious or critical on any of these states.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
from playwright.sync_api import Error as PlaywrightError

from backend.auth import service as auth_service
from backend.database import make_engine, make_session_factory
from backend.main import create_app
from tests.backend.conftest import always_open, bearer
from tests.e2e.test_a11y import add_user, serious
from tests.e2e.test_app import PASSWORD, SHOTS, backend_settings, seed
from tests.e2e.test_facility_pages import _registry_spaces, _seed_history
from tests.e2e.test_signage_door_panel import panel_token
from tests.helpers import serve_app
from tests.services import Mosquitto, make_tempdir, wait_until

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.xdist_group("wayfinding"),  # one served backend for the whole module
]

SIZES = {"phone": (390, 844), "desktop": (1920, 1080)}
#: Where the floor screen of hq-1 hangs: in the corridor, by the lift lobby (plan units).
HERE = "960,247"
WORDS = {
    "nl": {"locale": "nl-NL", "here": "U bent hier", "free": "Vrij", "booked": "Geboekt",
           "stairs": "Trap", "toilets": "Toiletten", "entrance": "Hoofdingang", "done": "Gelukt",
           "panel": "Gereserveerd tot ", "quiet": "Stilte"},
    "en": {"locale": "en-GB", "here": "You are here", "free": "Free", "booked": "Booked",
           "stairs": "Stairs", "toilets": "Toilets", "entrance": "Main entrance", "done": "Done:",
           "panel": "Booked until ", "quiet": "Quiet"},
}  # fmt: skip
#: Each scenario has its own person (one desk a day) and its own room.
CASES = [
    ("nl", "phone", "anna", "hq.1.r-01"),
    ("en", "phone", "bram", "hq.1.r-02"),
    ("nl", "desktop", "carla", "hq.1.r-03"),
    ("en", "desktop", "daan", "hq.1.f-04"),
]
#: Quiet desks taken this morning; the others are free.
TAKEN = ("hq.1.d-028", "hq.1.d-030", "hq.1.d-033")


@dataclass
class World:
    """The served backend, its tokens and the desks used today (for the cleaning list)."""

    url: str
    signage: str
    admin: str
    used: list[str]
    names: dict[str, str]


def _publish_states(broker: Mosquitto, space_ids: list[str]) -> None:
    """Retained space states as the gateway publishes them: rooms and most desks vacant.

    With a live gateway's retained "online" status, as in the building: without it the
    backend judges the states by their age, and a long module would see them go stale.
    """
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        status = "werkplek/v1/_gateway/gw-1/status"
        client.publish(status, b"online", qos=1, retain=True).wait_for_publish(10)
        now = int(time.time() * 1000)
        for sid in space_ids:
            state = "occupied" if sid in TAKEN or sid.endswith(("-004", "-017")) else "vacant"
            body = {"v": 1, "site": "hq", "space_id": sid, "state": state, "since": now,
                    "updated": now, "reason": "sensor", "devices": []}  # fmt: skip
            topic = f"werkplek/v1/hq/_space/{sid}/state"
            client.publish(topic, json.dumps(body), qos=1, retain=True).wait_for_publish(10)
    finally:
        client.loop_stop()
        client.disconnect()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("wayfinding")
    broker = Mosquitto(workdir=make_tempdir("mosquitto"))
    broker.start()
    history = tmp / "history.sqlite3"
    try:
        settings = backend_settings(
            tmp, mqtt_enabled=True, mqtt_url=broker.url, mqtt_client_id="e2e-wayfinding",
            history_path=history, cleaning_min_minutes=0.01, facility_rollup_every_s=0,
        )  # fmt: skip
        signage = seed(settings, *(case[2] for case in CASES))
        always_open(settings.database_url)  # the scenarios run at any hour
        add_user(settings, "fenna", "facility")
        engine = make_engine(settings.database_url)
        try:
            with make_session_factory(engine)() as session:
                admin = auth_service.create_token(session, "admin", "e2e admin")
        finally:
            engine.dispose()
        spaces = _registry_spaces(settings.database_url)
        used, _plans = _seed_history(history, spaces)
        _publish_states(broker, [s.id for s in spaces])
        with serve_app(create_app(settings), settings.http_port) as url:
            yield World(url, signage, admin, used, {s.id: s.name for s in spaces})
    finally:
        broker.stop()


def _context(browser: Any, lang: str, size: str) -> Any:
    width, height = SIZES[size]
    phone = size == "phone"
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale=WORDS[lang]["locale"],
        has_touch=True,
        is_mobile=phone,
    )
    # Generous bounds: the scenarios must pass on a loaded machine, only slower.
    context.set_default_timeout(60_000)
    return context


def _no_serious(page: Any, state: str) -> None:
    found = serious(page)
    assert not found, f"axe on {state}: {found}"


def _scrolled_to(page: Any, selector: str) -> bool:
    """Scroll a plan tile into view; False when a live update redrew the plan meanwhile.

    The app redraws its plan on every availability push, so the tile found a moment
    ago can be gone from the DOM: the caller tries again with the new one.
    """
    try:
        page.locator(selector).scroll_into_view_if_needed(timeout=5_000)
    except PlaywrightError:
        return False
    return True


def _press(page: Any, selector: str, size: str) -> None:
    """A tap on a phone, a click on a desktop."""
    if size == "phone":
        page.tap(selector)
    else:
        page.click(selector)


def _floor_screen(world: World, page: Any, lang: str) -> None:
    page.goto(
        f"{world.url}/signage/?site=hq&floor=hq-1&here={HERE}&lang={lang}#token={world.signage}"
    )
    wait_until(
        lambda: (page.text_content("#count-quiet") or "").strip().isdigit(), 60, what="a count"
    )


@pytest.mark.parametrize(("lang", "size", "person", "room"), CASES)
def test_find_a_quiet_desk_on_the_screen_book_it_and_book_a_room_at_its_door(
    browser, world, lang, size, person, room, record_property
):
    words = WORDS[lang]
    started = time.monotonic()
    screen = _context(browser, lang, size)
    phone = _context(browser, lang, size)
    try:
        # 1. The floor screen: where am I, and which quiet desk is free?
        wall = screen.new_page()
        _floor_screen(world, wall, lang)
        here = wall.locator("#plan-here .fp-here-text")
        assert here.text_content() == words["here"]
        box = here.bounding_box()
        width, height = SIZES[size]
        assert box and 0 <= box["x"] and box["x"] + box["width"] <= width and box["y"] < height
        assert words["here"] in (wall.get_attribute("#plan", "aria-label") or "")
        landmarks = wall.eval_on_selector_all(".fp-label", "l => l.map(e => e.textContent)")
        for name in ("Lift", words["stairs"], words["toilets"], "Pantry", words["entrance"]):
            assert name in landmarks, (name, landmarks)
        assert wall.locator("#plan-drawing .fp-wall").count() >= 1
        first = wall.locator("#quiet-desks li[data-space]").first
        space = first.get_attribute("data-space") or ""
        assert space and space not in TAKEN
        tile = wall.locator(f'.space[data-space-id="{space}"]')
        assert tile.get_attribute("data-listed") == "true"
        assert tile.locator(".state-word").text_content() == words["free"]
        number = tile.locator(".desk-no").text_content() or ""
        assert (first.locator("strong").text_content() or "").endswith(number)
        assert words["quiet"] in (tile.get_attribute("aria-label") or "")
        _no_serious(wall, f"floor screen {lang} {size}")
        if lang == "nl":
            wall.screenshot(path=str(SHOTS / f"wayfinding-signage-{size}.png"))

        # 2. The app: that desk, through the confirmation sheet.
        app = phone.new_page()
        app.goto(f"{world.url}/app/?lang={lang}")
        app.fill("#username", person)
        app.fill("#password", PASSWORD)
        app.click("#login-form button[type=submit]")
        target = f'#plan [data-space-id="{space}"]'
        app.wait_for_selector(target, timeout=60_000)
        wait_until(lambda: _scrolled_to(app, target), 60, what="desk tile in view")
        _press(app, target, size)
        app.locator("#confirm").wait_for(state="visible")
        assert world.names[space] in app.inner_text("#confirm-facts")
        _no_serious(app, f"app sheet {lang} {size}")
        _press(app, "#confirm-ok", size)
        app.wait_for_function(
            "t => document.getElementById('confirm-status').textContent.includes(t)",
            arg=words["done"],
            timeout=60_000,
        )
        _no_serious(app, f"app booked {lang} {size}")
        # The floor screen follows: the desk is booked now, in words on its tile.
        wait_until(
            lambda: tile.get_attribute("data-state") == "booked", 60, what="tile turns booked"
        )
        assert tile.locator(".state-word").text_content() == words["booked"]
        assert tile.get_attribute("data-listed") == "false"

        # 3. The meeting room's door panel: book it now for 30 minutes.
        panel = screen.new_page()
        token = panel_token(world.url, world.admin, room)
        panel.goto(f"{world.url}/signage/room.html?space={room}&lang={lang}#token={token}")
        wait_until(lambda: panel.get_attribute("#now", "data-state") == "free", 60, what="free")
        _no_serious(panel, f"door panel {lang} {size}")
        _press(panel, '#buttons button[data-minutes="30"]', size)
        wait_until(
            lambda: (panel.text_content("#book-result") or "").startswith(words["panel"]),
            60,
            what="room booked",
        )
        wait_until(lambda: panel.get_attribute("#now", "data-state") == "booked", 60, what="now")
        _no_serious(panel, f"door panel booked {lang} {size}")
    finally:
        screen.close()
        phone.close()
    record_property(f"scenario_s_{lang}_{size}", round(time.monotonic() - started, 1))


@pytest.mark.parametrize(("lang", "size", "which"), [("nl", "phone", 0), ("en", "desktop", 1)])
def test_a_facility_manager_marks_a_used_desk_cleaned(browser, world, lang, size, which):
    desk = world.used[which]
    context = _context(browser, lang, size)
    try:
        page = context.new_page()
        page.goto(f"{world.url}/facility/?site=hq&floor=hq-1&lang={lang}")
        page.fill("#username", "fenna")
        page.fill("#password", PASSWORD)
        page.press("#password", "Enter")
        card = f"#clean-list li[data-space='{desk}']"
        page.wait_for_selector(card, timeout=60_000)
        assert (page.text_content(f"{card} .what") or "").startswith(world.names[desk])
        _no_serious(page, f"cleaning list {lang} {size}")
        _press(page, f"{card} button", size)
        page.wait_for_selector(f"#clean-list li.done[data-space='{desk}']", timeout=60_000)
        assert world.names[desk] in (page.text_content("#notice") or "")
        _no_serious(page, f"cleaned {lang} {size}")
        page.reload()
        page.wait_for_selector("#clean-list li[data-space], #clean-list li", timeout=60_000)
        after = page.eval_on_selector_all(
            "#clean-list li[data-space]", "l => l.map(e => e.dataset.space)"
        )
        assert desk not in after  # the mark was stored: the card is gone
    finally:
        context.close()


def test_an_edit_of_the_plan_reaches_an_open_floor_screen(browser, world):
    context = _context(browser, "nl", "desktop")
    admin = bearer(world.admin)
    try:
        page = context.new_page()
        _floor_screen(world, page, "nl")
        tile = '.space[data-space-id="hq.1.d-001"] .desk-no'
        assert page.text_content(tile) == "1.01"
        assert page.locator('.space[data-space-id="hq.1.d-901"]').count() == 0
        with httpx.Client(base_url=world.url, timeout=30, headers=admin) as client:
            renamed = client.patch("/api/v1/spaces/hq.1.d-001", json={"name": "Werkplek 1.91"})
            assert renamed.status_code == 200, renamed.text
            new = {"id": "hq.1.d-901", "kind": "desk", "name": "Werkplek 1.92", "zone": "B",
                   "x": 1000, "y": 552, "w": 90, "h": 64}  # fmt: skip
            assert client.post("/api/v1/floors/hq-1/spaces", json=new).status_code == 201
            try:
                # No reload: the snapshot's new plan revision makes the screen fetch its plan.
                wait_until(lambda: page.text_content(tile) == "1.91", 60, what="renamed tile")
                wait_until(
                    lambda: page.locator('.space[data-space-id="hq.1.d-901"]').count() == 1,
                    60,
                    what="new desk drawn",
                )
                assert page.locator("#plan-drawing .fp-wall").count() >= 1
                assert page.locator("#plan-here .fp-here-text").count() == 1
                _no_serious(page, "floor screen after an edit")
            finally:
                client.delete("/api/v1/spaces/hq.1.d-901")
                client.patch("/api/v1/spaces/hq.1.d-001", json={"name": "Werkplek 1.01"})
    finally:
        context.close()
