"""The five usability scenarios of issue 16 as people do them, in Chromium against one backend.

Each runs at 390x844 (touch: taps) and 1920x1080 (mouse: clicks), in Dutch and English, by the
words on the screen, and axe finds nothing serious or critical on any state:

1. At the floor screen a person sees where they stand ("U bent hier") on a real plan (walls,
   lift, stairs, toilets, pantry, entrance), reads the first free quiet desk from the list and
   finds its tile by number and state word;
2. books that desk in the app within 3 presses from login, through the confirmation sheet,
   after which the floor screen shows it booked;
3. opens the QR code of a free desk as a phone does: after logging in the desk is booked and
   checked in without another press;
4. books a meeting room now on its door panel, and ends the meeting early there: the room is
   free at once;
5. a facility manager marks a desk used today cleaned.

An edit of the plan by facility reaches an open floor screen without a reload.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from playwright.sync_api import Error as PlaywrightError

from backend.auth import service as auth_service
from backend.database import make_engine, make_session_factory
from backend.facility.opening import DEFAULT
from backend.main import create_app
from backend.spaces.models import Space
from history.base import PresencePoint
from history.sqlite import SqliteHistory
from tests.backend.conftest import always_open, bearer
from tests.e2e.test_a11y import add_user, serious
from tests.e2e.test_app import PASSWORD, SHOTS, backend_settings, seed
from tests.e2e.test_facility_pages import _registry_spaces, _seed_history
from tests.e2e.test_signage_door_panel import panel_token
from tests.helpers import serve_app
from tests.services import Mosquitto, make_tempdir, wait_until
from werkplek.history_gen import midnight_ms

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
           "panel": "Gereserveerd tot ", "quiet": "Stilte", "username": "Gebruikersnaam",
           "password": "Wachtwoord", "login": "Inloggen", "confirm": "Ja, reserveer",
           "book_now": "Nu reserveren voor 15 minuten", "end": "Nu beëindigen",
           "end_sure": "Tik nog eens om te beëindigen",
           "ended": "Beëindigd. De ruimte is nu vrij.",
           "qr_login": "Log in om in te checken", "walkup": "en u bent ingecheckt",
           "cleaned": "Schoongemaakt"},
    "en": {"locale": "en-GB", "here": "You are here", "free": "Free", "booked": "Booked",
           "stairs": "Stairs", "toilets": "Toilets", "entrance": "Main entrance", "done": "Done:",
           "panel": "Booked until ", "quiet": "Quiet", "username": "User name",
           "password": "Password", "login": "Log in", "confirm": "Yes, book",
           "book_now": "Book now for 15 minutes", "end": "End now",
           "end_sure": "Tap again to end", "ended": "Ended. The room is free now.",
           "qr_login": "Log in to check in", "walkup": "and you are checked in",
           "cleaned": "Cleaned"},
}  # fmt: skip
CASES = [("nl", "phone"), ("en", "phone"), ("nl", "desktop"), ("en", "desktop")]


@dataclass(frozen=True)
class Cast:
    """Who and what one case uses: a person books one desk a day, so each case has its own."""

    booker: str  # finds a quiet desk on the floor screen and books it in the app
    room: str  # whose door panel books now and ends early
    scanner: str  # scans the QR code of a free desk
    qr_desk: str  # a free desk of zone A (not quiet: the quiet list stays the bookers')
    cleaned: int  # which of the desks used today the facility manager marks cleaned


CAST = {
    ("nl", "phone"): Cast("anna", "hq.1.r-01", "eva", "hq.1.d-008", 0),
    ("en", "phone"): Cast("bram", "hq.1.r-02", "gijs", "hq.1.d-009", 1),
    ("nl", "desktop"): Cast("carla", "hq.1.r-03", "hanna", "hq.1.d-010", 2),
    ("en", "desktop"): Cast("daan", "hq.1.f-04", "ivo", "hq.1.d-011", 3),
}
#: Quiet desks taken this morning; the others are free.
TAKEN = ("hq.1.d-028", "hq.1.d-030", "hq.1.d-033")
#: A fourth desk used today (the history seed uses three), so each case cleans its own.
ALSO_USED = "hq.1.d-005"


@dataclass
class World:
    """The served backend, its tokens and the desks used today (for the cleaning list)."""

    url: str
    signage: str
    admin: str
    used: list[str]
    names: dict[str, str]


class Hands:
    """Presses as a person does, counted: a tap on a phone, a click with a mouse."""

    def __init__(self, size: str) -> None:
        self.touch = size == "phone"
        self.presses = 0

    def press(self, target: Any) -> None:
        if self.touch:
            target.tap()
        else:
            target.click()
        self.presses += 1


def _publish_states(broker: Mosquitto, space_ids: list[str]) -> None:
    """Retained space states as the gateway publishes them: rooms and most desks vacant.

    With a live gateway's retained "online" status, as in the building: without it the
    backend judges the states by their age, and a long module would see them go stale.
    """
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
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


def _used_today(path: Path, space: Space) -> None:
    """A desk used this morning: occupied from a tenth of the day so far until half of it."""
    store = SqliteHistory(path, raw_retention_days=0, maintain_every_s=1e12)
    try:
        now = int(datetime.now(UTC).timestamp() * 1000)
        midnight = midnight_ms(datetime.now(DEFAULT.tz).date())
        at = [midnight + (now - midnight) * share // 10 for share in (1, 5)]
        points = [
            PresencePoint(
                site=space.site_id, device="node-extra", time_ms=at[seq],
                occupied=occupied, seq=seq, boot=1, source="radar", clock_corrected=False,
                space=space.id, kind=space.kind, floor=space.floor_id, zone=space.zone,
            )
            for seq, occupied in enumerate((True, False))
        ]  # fmt: skip
        store.write_points(points)
    finally:
        store.close()


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
        people = [name for cast in CAST.values() for name in (cast.booker, cast.scanner)]
        signage = seed(settings, *people)
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
        _used_today(history, next(s for s in spaces if s.id == ALSO_USED))
        _publish_states(broker, [s.id for s in spaces])
        with serve_app(create_app(settings), settings.http_port) as url:
            yield World(url, signage, admin, [*used, ALSO_USED], {s.id: s.name for s in spaces})
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


def _log_in(page: Any, lang: str, person: str) -> None:
    """Type name and password into the labelled fields and press "Inloggen" (not counted)."""
    words = WORDS[lang]
    page.get_by_label(words["username"], exact=True).fill(person)
    page.get_by_label(words["password"], exact=True).fill(PASSWORD)
    page.get_by_role("button", name=words["login"], exact=True).click()


def _floor_screen(world: World, page: Any, lang: str) -> None:
    page.goto(
        f"{world.url}/signage/?site=hq&floor=hq-1&here={HERE}&lang={lang}#token={world.signage}"
    )
    wait_until(
        lambda: (page.text_content("#count-quiet") or "").strip().isdigit(), 60, what="a count"
    )


def _tile(page: Any, space: str) -> Any:
    return page.locator(f'.space[data-space-id="{space}"]')


@pytest.mark.parametrize(("lang", "size"), CASES)
def test_1_2_find_a_free_quiet_desk_on_the_screen_and_book_it_on_a_phone(
    browser, world, lang, size, record_property
):
    words, cast = WORDS[lang], CAST[(lang, size)]
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
        tile = _tile(wall, space)
        assert tile.get_attribute("data-listed") == "true"
        assert tile.locator(".state-word").text_content() == words["free"]
        # The number the person names: on the tile and at the end of the list's entry.
        number = tile.locator(".desk-no").text_content() or ""
        assert number and world.names[space].endswith(number)
        assert (first.locator("strong").text_content() or "").endswith(number)
        assert words["quiet"] in (tile.get_attribute("aria-label") or "")
        _no_serious(wall, f"floor screen {lang} {size}")
        if lang == "nl":
            wall.screenshot(path=str(SHOTS / f"wayfinding-signage-{size}.png"))

        # 2. The app: that desk, through the confirmation sheet, counting the presses.
        app = phone.new_page()
        hands = Hands(size)
        app.goto(f"{world.url}/app/?lang={lang}")
        _log_in(app, lang, cast.booker)
        target = f'#plan [data-space-id="{space}"]'
        app.wait_for_selector(target, timeout=60_000)
        wait_until(lambda: _scrolled_to(app, target), 60, what="desk tile in view")
        assert number in (app.text_content(target) or ""), "the app's tile shows the number"
        hands.press(app.locator(target))
        sheet = app.locator("#confirm")
        sheet.wait_for(state="visible")
        assert world.names[space] in app.inner_text("#confirm-facts")
        _no_serious(app, f"app sheet {lang} {size}")
        hands.press(sheet.get_by_role("button", name=words["confirm"]))
        app.wait_for_function(
            "t => document.getElementById('confirm-status').textContent.includes(t)",
            arg=words["done"],
            timeout=60_000,
        )
        assert hands.presses <= 3, f"{hands.presses} presses from login to a booking"
        _no_serious(app, f"app booked {lang} {size}")
        # The floor screen follows: the desk is booked now, in words on its tile.
        wait_until(
            lambda: tile.get_attribute("data-state") == "booked", 60, what="tile turns booked"
        )
        assert tile.locator(".state-word").text_content() == words["booked"]
        assert tile.get_attribute("data-listed") == "false"
    finally:
        screen.close()
        phone.close()
    record_property(f"scenario_s_{lang}_{size}", round(time.monotonic() - started, 1))


@pytest.mark.parametrize(("lang", "size"), CASES)
def test_3_a_qr_code_at_a_free_desk_books_and_checks_in_at_once(browser, world, lang, size):
    words, cast = WORDS[lang], CAST[(lang, size)]
    desk, name = cast.qr_desk, world.names[cast.qr_desk]
    screen = _context(browser, lang, size)
    phone = _context(browser, lang, size)
    try:
        wall = screen.new_page()
        _floor_screen(world, wall, lang)
        tile = _tile(wall, desk)
        assert tile.locator(".state-word").text_content() == words["free"]
        # The camera opens the code's link in a new tab: no session there yet.
        app = phone.new_page()
        hands = Hands(size)
        app.goto(f"{world.url}/app/?checkin={desk}")
        assert words["qr_login"] in (app.text_content("#notice") or "")
        _no_serious(app, f"qr login {lang} {size}")
        _log_in(app, lang, cast.scanner)
        app.wait_for_function(
            "t => document.getElementById('notice').textContent.includes(t)",
            arg=words["walkup"],
            timeout=60_000,
        )
        assert name in (app.text_content("#notice") or "")
        assert app.text_content("#error") == ""
        today = app.locator("#today-mine li[data-booking-id]")
        today.wait_for()
        assert today.count() == 1
        assert today.get_attribute("data-status") == "checked_in"
        assert name in today.inner_text()
        assert hands.presses == 0, "booked and checked in without a press after login"
        _no_serious(app, f"qr checked in {lang} {size}")
        # The floor screen follows: the desk is no longer offered as free.
        wait_until(lambda: tile.get_attribute("data-state") == "booked", 60, what="booked")
        assert tile.locator(".state-word").text_content() == words["booked"]
    finally:
        screen.close()
        phone.close()


@pytest.mark.parametrize(("lang", "size"), CASES)
def test_4_book_a_room_now_at_its_door_and_end_the_meeting_early(
    browser, world, lang, size, office_clock
):
    # The backend's clock at 10:00 (tests/e2e/conftest.py): from 23:44 on, 15 minutes from
    # now would not fit before closing (23:59) and the button would be off.
    words, room = WORDS[lang], CAST[(lang, size)].room
    context = _context(browser, lang, size)
    try:
        panel = context.new_page()
        hands = Hands(size)
        token = panel_token(world.url, world.admin, room)
        panel.goto(f"{world.url}/signage/room.html?space={room}&lang={lang}#token={token}")
        wait_until(lambda: panel.get_attribute("#now", "data-state") == "free", 60, what="free")
        _no_serious(panel, f"door panel {lang} {size}")
        # A meeting starts: book the room now, at its door.
        hands.press(panel.get_by_role("button", name=words["book_now"]))
        wait_until(
            lambda: (panel.text_content("#book-result") or "").startswith(words["panel"]),
            60,
            what="room booked",
        )
        wait_until(lambda: panel.get_attribute("#now", "data-state") == "booked", 60, what="now")
        end = panel.get_by_role("button", name=words["end"], exact=True)
        end.wait_for(state="visible")
        _no_serious(panel, f"door panel meeting {lang} {size}")
        # The meeting is over sooner: "end now" asks once more, the second press ends it.
        hands.press(end)
        sure = panel.get_by_role("button", name=words["end_sure"], exact=True)
        sure.wait_for(state="visible")
        assert panel.get_attribute("#now", "data-state") == "booked", "one press ends nothing"
        _no_serious(panel, f"door panel end asked {lang} {size}")
        hands.press(sure)
        wait_until(
            lambda: (panel.text_content("#book-result") or "") == words["ended"],
            60,
            what="meeting ended",
        )
        wait_until(lambda: panel.get_attribute("#now", "data-state") == "free", 60, what="free")
        wait_until(lambda: panel.is_hidden("#meeting"), 60, what="no meeting")
        assert (panel.text_content("#now-text") or "").startswith(words["free"])
        assert hands.presses == 3
        _no_serious(panel, f"door panel ended {lang} {size}")
    finally:
        context.close()


@pytest.mark.parametrize(("lang", "size"), CASES)
def test_5_a_facility_manager_marks_a_used_desk_cleaned(browser, world, lang, size):
    words = WORDS[lang]
    desk = world.used[CAST[(lang, size)].cleaned]
    context = _context(browser, lang, size)
    try:
        page = context.new_page()
        hands = Hands(size)
        page.goto(f"{world.url}/facility/?site=hq&floor=hq-1&lang={lang}")
        _log_in(page, lang, "fenna")
        card = page.locator(f"#clean-list li[data-space='{desk}']")
        card.wait_for(timeout=60_000)
        assert (card.locator(".what").text_content() or "").startswith(world.names[desk])
        _no_serious(page, f"cleaning list {lang} {size}")
        hands.press(card.get_by_role("button", name=words["cleaned"]))
        page.wait_for_selector(f"#clean-list li.done[data-space='{desk}']", timeout=60_000)
        assert world.names[desk] in (page.text_content("#notice") or "")
        assert hands.presses == 1
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
