"""Usability of the booking app as a person uses it, in Chromium against a real backend.

A phone (390x844, touch): the first screen after login shows today's bookings and the best
free places; a desk is booked in at most 3 taps from login, always through a confirmation
sheet; a QR code at a free desk books and checks in at once. In Dutch and English, with axe
on every new state (sheet open, filters open, success). Screenshots go to docs/screenshots/
only with WERKPLEK_UPDATE_SCREENSHOTS=1 (see tests/e2e/test_app.py).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.bookings.models import Booking
from backend.database import make_engine, make_session_factory
from backend.people.models import User
from tests.backend.conftest import always_open
from tests.e2e.test_a11y import serious
from tests.e2e.test_app import PASSWORD, SHOTS, booking_day, running_backend

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.browser]
APP = Path(__file__).resolve().parents[2] / "dashboards" / "app"
PHONE = {"width": 390, "height": 844}
WORDS = {
    "nl": {
        "locale": "nl-NL",
        "booked": "Gelukt",
        "walkup": "u bent ingecheckt",
        "filters": "Filters",
    },
    "en": {
        "locale": "en-GB",
        "booked": "Done:",
        "walkup": "you are checked in",
        "filters": "Filters",
    },
}


def phone(browser: Any, lang: str) -> Any:
    """A touch phone context in the given language."""
    return browser.new_context(
        viewport=PHONE, has_touch=True, is_mobile=True, locale=WORDS[lang]["locale"]
    )


def log_in(page: Any, username: str) -> None:
    """Type the user name and password and press the login button (not counted: it is login)."""
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#best li[data-space-id] button", timeout=30_000)


def no_serious(page: Any, state: str) -> None:
    found = serious(page)
    assert not found, f"axe on {state}: {found}"


def api_token(url: str, username: str) -> str:
    with httpx.Client(base_url=url, timeout=30) as client:
        answer = client.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        token: str = answer.json()["token"]
        return token


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_phone_books_a_desk_in_at_most_three_taps(browser, tmp_path, lang):
    words = WORDS[lang]
    with running_backend(tmp_path, "anna") as backend:
        always_open(backend.settings.database_url)  # today can be booked at any hour
        context = phone(browser, lang)
        try:
            page = context.new_page()
            page.goto(f"{backend.url}/app/")
            log_in(page, "anna")
            # The first screen answers: no booking today, and free places in view.
            first = page.locator("#best li[data-space-id]").first
            box = first.locator("button").bounding_box()
            assert box is not None and box["y"] + box["height"] <= PHONE["height"], box
            assert box["height"] >= 44 and box["width"] >= 44
            assert page.locator("#find-form").is_hidden(), "filters are folded on a phone"
            assert page.locator("#best li[data-space-id]").count() >= 1
            name = first.locator("strong").inner_text()
            if lang == "nl":
                page.screenshot(path=str(SHOTS / "app-phone-today.png"))
            taps = 0
            first.locator("button").tap()
            taps += 1
            sheet = page.locator("#confirm")
            sheet.wait_for(state="visible")
            facts = page.inner_text("#confirm-facts")
            # Place, zone (quiet places come first), floor and time, in words.
            assert name in facts and ("Stilte" if lang == "nl" else "Quiet") in facts
            assert ("Verdieping" if lang == "nl" else "Floor") in facts
            assert ("Hele dag" if lang == "nl" else "Whole day").lower() in facts.lower()
            # Focus moved into the sheet, on Confirm.
            assert page.evaluate("document.activeElement.id") == "confirm-ok"
            no_serious(page, f"sheet open ({lang})")
            if lang == "nl":
                page.screenshot(path=str(SHOTS / "app-phone-confirm.png"))
            page.tap("#confirm-ok")
            taps += 1
            page.wait_for_function(
                "t => document.getElementById('confirm-status').textContent.includes(t)",
                arg=words["booked"],
                timeout=30_000,
            )
            assert taps <= 3, f"{taps} taps from login to a booking"
            # The success is in the sheet, next to where the person tapped, and read out.
            assert page.get_attribute("#confirm-status", "role") == "status"
            assert page.locator("#confirm-status").is_visible()
            no_serious(page, f"booked ({lang})")
            if lang == "nl":
                page.screenshot(path=str(SHOTS / "app-phone-booked.png"))
            page.keyboard.press("Escape")
            sheet.wait_for(state="hidden")
            today = page.locator("#today-mine li[data-booking-id]")
            assert today.count() == 1 and name in today.inner_text()
            # One desk a day: no more book buttons on the first screen.
            assert page.locator("#best button").count() == 0
            # The filters open behind their button.
            page.tap("#filters-toggle")
            assert page.get_attribute("#filters-toggle", "aria-expanded") == "true"
            assert page.locator("#quiet").is_visible()
            no_serious(page, f"filters open ({lang})")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"page is {width} px wide"
        finally:
            context.close()


def test_plan_tiles_are_large_enough_to_tap_on_a_phone(browser, tmp_path):
    with running_backend(tmp_path, "anna", "bram") as backend:
        always_open(backend.settings.database_url)
        context = phone(browser, "nl")
        try:
            page = context.new_page()
            page.goto(f"{backend.url}/app/")
            log_in(page, "anna")
            page.wait_for_selector("#plan .desk")
            sizes = page.eval_on_selector_all(
                "#plan .desk .shape",
                "els => els.map(e => { const r = e.getBoundingClientRect();"
                " return [r.width, r.height]; })",
            )
            assert sizes and min(min(w, h) for w, h in sizes) >= 44, sizes[:3]
            # The plan pans in its own box: the page itself never scrolls sideways.
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            before = page.get_attribute("#plan", "width")
            page.tap("#zoom-in")
            assert int(page.get_attribute("#plan", "width")) > int(before)
            page.tap("#zoom-out")
            page.tap("#zoom-out")
            assert int(page.get_attribute("#plan", "width")) < int(before)
            # A tap on a desk never books at once: it opens the sheet.
            desk = page.locator('#plan .desk[data-state="unknown"]').first  # no broker: unknown
            desk.scroll_into_view_if_needed()
            desk.tap()
            page.locator("#confirm").wait_for(state="visible")
            page.tap("#confirm-cancel")
            page.locator("#confirm").wait_for(state="hidden")
            assert page.locator("#today-mine li[data-booking-id]").count() == 0
            # A room on the plan can be tapped and booked (time from the room form).
            room = page.locator('#plan .room[data-space-id="hq.1.r-02"]')
            room.scroll_into_view_if_needed()
            room.tap()
            page.locator("#confirm-ok").wait_for(state="visible")
            assert "Overleg 1.02" in page.inner_text("#confirm-facts")
            no_serious(page, "room sheet")
            page.tap("#confirm-cancel")
            page.screenshot(path=str(SHOTS / "app-plan-phone.png"))
        finally:
            context.close()


def test_no_book_button_where_booking_cannot_succeed(page, tmp_path):
    with running_backend(tmp_path, "anna", "bram") as backend:
        always_open(backend.settings.database_url)
        day = booking_day().isoformat()
        with httpx.Client(base_url=backend.url, timeout=30) as client:
            made = client.post(
                "/api/v1/bookings",
                json={"space_id": "hq.1.d-002", "date": day, "part": "day"},
                headers={"Authorization": f"Bearer {api_token(backend.url, 'bram')}"},
            )
            assert made.status_code == 201, made.text
            mine = client.post(
                "/api/v1/bookings",
                json={"space_id": "hq.1.d-003", "date": day, "part": "day"},
                headers={"Authorization": f"Bearer {api_token(backend.url, 'anna')}"},
            )
            assert mine.status_code == 201, mine.text
        page.goto(f"{backend.url}/app/")
        log_in(page, "anna")
        page.select_option("#day", day)
        taken = page.locator('#desks li[data-space-id="hq.1.d-002"][data-state="booked"]')
        taken.wait_for()
        assert taken.locator("button").count() == 0
        own = page.locator('#desks li[data-space-id="hq.1.d-003"][data-state="mine"]')
        own.wait_for()
        assert "Uw reservering" in own.inner_text()
        assert own.locator("button.book").count() == 0
        assert own.locator("button.cancel").count() == 1
        # On the plan my own desk opens its booking (with cancel), someone else's says why not.
        page.click('#plan [data-space-id="hq.1.d-003"]')
        page.locator("#confirm").wait_for(state="visible")
        assert page.inner_text("#confirm-title") == "Uw reservering"
        assert page.locator("#confirm-ok").count() == 0
        page.keyboard.press("Escape")
        page.locator("#confirm").wait_for(state="hidden")
        # Focus went back to the desk on the plan.
        assert page.evaluate("document.activeElement.getAttribute('data-space-id')") == "hq.1.d-003"
        page.click('#plan [data-space-id="hq.1.d-002"]')
        assert "niet reserveren" in page.inner_text("#confirm-note")
        assert page.locator("#confirm-ok").count() == 0
        page.keyboard.press("Escape")
        # The list's book button confirms first; Escape books nothing.
        page.click('#desks li[data-space-id="hq.1.d-005"] button.book')
        page.locator("#confirm").wait_for(state="visible")
        page.keyboard.press("Escape")
        page.locator("#confirm").wait_for(state="hidden")
        assert page.evaluate("document.activeElement.closest('li').dataset.spaceId") == "hq.1.d-005"
        assert page.locator("#mine li[data-booking-id]").count() == 1


def past_bookings(settings: Any, username: str, space_ids: list[str]) -> None:
    """Store ended bookings of earlier weeks, as a person's history (the API refuses the past)."""
    now = dt.datetime.now(dt.UTC)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            user = session.scalars(select(User).where(User.username == username)).one()
            for weeks, space_id in enumerate(space_ids, start=1):
                start = now - dt.timedelta(weeks=weeks)
                session.add(
                    Booking(
                        space_id=space_id,
                        site_id="hq",
                        space_kind="desk",
                        user_id=user.id,
                        start_at=start,
                        end_at=start + dt.timedelta(hours=8),
                        local_day=start.date(),
                        status="checked_in",
                    )
                )
            session.commit()
    finally:
        engine.dispose()


def test_best_places_are_quiet_first_then_near_the_usual_zone(page, tmp_path):
    with running_backend(tmp_path, "anna") as backend:
        always_open(backend.settings.database_url)
        # Anna usually sits in zone B on the second floor.
        past_bookings(backend.settings, "anna", ["hq.2.d-016", "hq.2.d-017", "hq.1.d-001"])
        page.goto(f"{backend.url}/app/")
        log_in(page, "anna")
        page.wait_for_function(
            "() => document.getElementById('best-help').textContent.includes('meestal')"
        )
        assert "(B, Verdieping 2)" in page.inner_text("#best-help")
        first = page.locator("#best li[data-space-id]").first
        # Quiet first, and of the quiet desks those on her usual floor.
        assert first.get_attribute("data-space-id").startswith("hq.2.")
        assert "Stilte" in first.inner_text()


def test_errors_are_announced_once_and_can_be_closed(page, tmp_path):
    with running_backend(tmp_path, "anna") as backend:
        # The login waits for today's best places: none after closing time (failed at 19:02).
        always_open(backend.settings.database_url)
        page.goto(f"{backend.url}/app/")
        page.fill("#username", "anna")
        page.fill("#password", "wrong-password")
        page.click("#login-form button[type=submit]")
        page.wait_for_function(
            "() => document.getElementById('login-error').textContent.length > 0"
        )
        # Once: next to the form (aria-live), not again in the page's alert.
        assert page.text_content("#error") == ""
        assert page.locator("#error-bar").is_hidden()
        page.goto(f"{backend.url}/app/")
        log_in(page, "anna")
        page.goto(f"{backend.url}/app/?checkin=nowhere.9")
        page.wait_for_function("() => document.getElementById('error').textContent.length > 0")
        assert page.locator("#error-bar").is_visible()
        page.click("#error-close")
        assert page.locator("#error-bar").is_hidden()
        assert page.text_content("#error") == ""


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_qr_scan_at_a_free_desk_books_and_checks_in(browser, tmp_path, lang):
    with running_backend(tmp_path, "anna") as backend:
        always_open(backend.settings.database_url)
        context = phone(browser, lang)
        try:
            page = context.new_page()
            # Scanned before logging in: log in, and the desk is booked and checked in.
            page.goto(f"{backend.url}/app/?checkin=hq.1.d-012")
            page.fill("#username", "anna")
            page.fill("#password", PASSWORD)
            page.tap("#login-form button[type=submit]")
            page.wait_for_function(
                "t => document.getElementById('notice').textContent.includes(t)",
                arg=WORDS[lang]["walkup"],
                timeout=30_000,
            )
            assert page.text_content("#error") == ""
            today = page.locator("#today-mine li[data-booking-id]")
            today.wait_for()
            assert today.get_attribute("data-status") == "checked_in"
            assert "1.12" in today.inner_text()
            no_serious(page, f"qr walk-up ({lang})")
            if lang == "nl":
                page.screenshot(path=str(SHOTS / "app-qr-walk-up.png"))
            # Another desk's code the same day: no second desk; the app says which is yours.
            page.goto(f"{backend.url}/app/?checkin=hq.1.d-013")
            page.wait_for_function("() => document.getElementById('error').textContent.length > 0")
            assert "1.12" in page.inner_text("#error")
        finally:
            context.close()


def test_every_text_key_exists_in_dutch_and_english(page, tmp_path):
    with running_backend(tmp_path) as backend:
        page.goto(f"{backend.url}/app/")
        keys = page.evaluate(
            "({nl: Object.keys(WERKPLEK_TEXT.nl), en: Object.keys(WERKPLEK_TEXT.en)})"
        )
    nl, en = set(keys["nl"]), set(keys["en"])
    assert nl == en, f"only nl: {sorted(nl - en)}, only en: {sorted(en - nl)}"
    used = set()
    for name in ("index.html", "qr.html"):
        html = (APP / name).read_text(encoding="utf-8")
        used |= set(re.findall(r'data-i18n(?:-label)?="([^"]+)"', html))
    script = (APP / "app.js").read_text(encoding="utf-8")
    used |= set(re.findall(r'\bT\("([A-Za-z_]+)"[,)]', script))
    missing = sorted(used - nl)
    assert not missing, f"keys used but not in i18n.js: {missing}"
    assert len(used) > 100  # the scan found the keys, not nothing
