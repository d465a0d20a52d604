"""The privacy report page in Chromium: an admin sees the retention in force and the inventory.

A facility user is told the page is for admins; axe finds nothing serious on either.
"""

from __future__ import annotations

import pytest

from backend.privacy import inventory
from tests.e2e.test_a11y import add_user, serious
from tests.e2e.test_app import PASSWORD, running_backend

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.browser]

#: Every wait of a page, for a long combined run on a loaded 2-core machine
#: (Playwright's own default is 30 s).
WAIT_MS = 60_000


def _login(page, base_url: str, username: str) -> None:
    """Log in on the facility page; the privacy page reads the same session token."""
    page.goto(f"{base_url}/facility/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_selector("#app-view:not([hidden])")


def test_admin_reads_the_privacy_report(browser, tmp_path):
    with running_backend(tmp_path) as backend:
        add_user(backend.settings, "ada", "admin")
        add_user(backend.settings, "fenna", "facility")
        context = browser.new_context(viewport={"width": 390, "height": 844})
        try:
            page = context.new_page()
            page.set_default_timeout(WAIT_MS)
            page.goto(f"{backend.url}/facility/privacy.html")
            page.wait_for_selector("#login-hint:not([hidden])")
            assert serious(page) == []
            _login(page, backend.url, "ada")
            page.goto(f"{backend.url}/facility/privacy.html")
            page.wait_for_selector("#inventory tbody tr")
            rows = page.locator("#inventory tbody tr").count()
            assert rows == len(inventory.ITEMS)
            assert page.text_content("dd[data-fact='retentionDays']") == "30"
            assert page.text_content("dd[data-fact='perPerson']") == "bestaat niet"
            assert "(P) booking" in page.text_content("#inventory")
            assert serious(page) == []
            page.click("#lang-switch")
            page.wait_for_function("() => document.documentElement.lang === 'en'")
            assert page.text_content("dd[data-fact='perPerson']") == "does not exist"
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
        finally:
            context.close()
        context = browser.new_context()
        try:
            page = context.new_page()
            page.set_default_timeout(WAIT_MS)
            _login(page, backend.url, "fenna")
            page.goto(f"{backend.url}/facility/privacy.html")
            page.wait_for_function("() => document.getElementById('error').textContent.length > 0")
            assert "beheerder" in page.text_content("#error")
            assert page.locator("#report").is_hidden()
            assert serious(page) == []
        finally:
            context.close()
