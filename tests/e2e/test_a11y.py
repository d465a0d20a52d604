"""Automated accessibility audit (axe-core in Chromium) of the signage page and every page
of the booking app: no serious or critical violations."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from backend.config import Settings
from backend.database import make_engine, make_session_factory
from backend.people import service as people
from tests.e2e.test_app import PASSWORD, booking_day, running_backend

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.browser]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def serious(page: Any) -> list[str]:
    """Run axe-core on the page; return the serious and critical violations, readable."""
    results = Axe().run(page, options={"resultTypes": ["violations"], **WCAG_AA})
    found = []
    for v in results.response["violations"]:
        if v["impact"] in ("serious", "critical"):
            targets = [n["target"] for n in v["nodes"][:3]]
            found.append(f"{v['impact']} {v['id']}: {v['help']} at {targets}")
    return found


def add_user(settings: Settings, username: str, role: str) -> None:
    """Create a local account with a role other than employee."""
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            people.create_user(
                session,
                username=username,
                display_name=username.title(),
                role=role,
                password=PASSWORD,
            )
    finally:
        engine.dispose()


@pytest.mark.slow
def test_every_page_passes_the_axe_audit(browser, tmp_path, record_property):
    audited = []
    with running_backend(tmp_path, "anna") as backend:
        add_user(backend.settings, "fenna", "facility")
        for width, height in ((1920, 1080), (390, 844)):
            context = browser.new_context(viewport={"width": width, "height": height})
            try:
                page = context.new_page()
                page.goto(
                    f"{backend.url}/signage/?site=hq&floor=hq-1&token={backend.signage_token}"
                )
                page.wait_for_selector("#plan-spaces [data-space-id]")
                pages = {"signage": serious(page)}

                page.goto(f"{backend.url}/app/")
                pages["app login"] = serious(page)
                page.click("#login-form button[type=submit]")  # the form error shown
                pages["app login error"] = serious(page)
                page.fill("#username", "anna")
                page.fill("#password", PASSWORD)
                page.press("#password", "Enter")
                page.wait_for_selector("#desks li[data-space-id]")
                if page.get_attribute("#filters-toggle", "aria-expanded") == "false":
                    page.click("#filters-toggle")  # folded on a phone
                page.select_option("#day", booking_day().isoformat())
                page.click("#desks li[data-space-id] button.book")
                page.click("#confirm-ok")
                page.wait_for_selector("#mine li[data-booking-id]")
                # The sheet says the outcome after every list is fresh, and ignores Escape
                # until then (t39: an Escape before it left the sheet over the page). On the
                # second width the desk of that day is there: the outcome is the refusal.
                page.wait_for_function(
                    "() => ['confirm-status', 'confirm-error']"
                    ".some(id => document.getElementById(id).textContent.length > 0)"
                )
                pages["app booked"] = serious(page)
                page.keyboard.press("Escape")
                page.locator("#confirm").wait_for(state="hidden")
                page.click("#lang-switch")
                pages["app english"] = serious(page)
                page.click("#lang-switch")
                page.focus("#plan [tabindex='0']")  # the floor plan with a focused desk
                page.keyboard.press("ArrowRight")
                pages["app plan focused"] = serious(page)
                page.check("#quiet")
                page.check("#standing")
                pages["app filtered"] = serious(page)
                page.select_option("#room-day", booking_day().isoformat())
                page.select_option("#room-to", "09:00")
                page.click("#room-search")
                pages["app room form error"] = serious(page)
                page.select_option("#room-to", "11:00")
                page.click("#room-search")
                page.wait_for_selector("#rooms li[data-space-id]")
                pages["app rooms found"] = serious(page)
                page.click("#feed-subscribe")  # the subscribe URL with its copy and stop buttons
                page.wait_for_selector("#feed-box:not([hidden])")
                pages["app calendar subscription"] = serious(page)
                page.goto(f"{backend.url}/app/?checkin=hq.1.r-02")  # a room, no booking there
                page.wait_for_function(
                    "() => document.getElementById('error').textContent.length > 0"
                )
                pages["app qr check-in refused"] = serious(page)
                page.click("#logout")
                page.fill("#username", "fenna")
                page.fill("#password", PASSWORD)
                page.press("#password", "Enter")
                page.wait_for_selector("#qr-sheet:not([hidden])")
                page.goto(f"{backend.url}/app/qr.html?floor=hq-1")
                page.wait_for_selector("#sheet li img")
                pages["qr sheet"] = serious(page)

                page.goto(f"{backend.url}/app/toegankelijkheid.html")
                pages["accessibility statement"] = serious(page)
            finally:
                context.close()
            for name, found in pages.items():
                assert not found, f"{name} at {width}px: " + "; ".join(found)
                audited.append(f"{name}@{width}")
    record_property("axe_pages_audited", len(audited))
    print(f"\naxe: no serious or critical violations on {len(audited)} page states")
