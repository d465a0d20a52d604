"""Single sign-on in Chromium: the booking app and the facility pages log in through a
real OpenID provider (``oidc-provider``), under the backend's strict CSP.

Log in on the app through the provider's login page, book a desk, log out (the token
answers 401 after); the provider rotates its signing key (the old one gone) and a new
login still works; the facility pages log a facility person in the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.test_app import booking_flow
from tests.oidc.sso_backend import SsoBackend, sso_backend

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.browser]


@pytest.fixture(scope="module")
def sso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SsoBackend]:
    """One backend and provider for this module."""
    with sso_backend(Path(tmp_path_factory.mktemp("sso-e2e"))) as served:
        yield served


def log_in_at_provider(page: Any, person: str) -> None:
    """Fill in the provider's own login page (its development form takes any password)."""
    try:
        page.wait_for_selector("input[name=login]", timeout=60_000)
    except PlaywrightTimeout as exc:  # say where the browser ended up instead
        body = (page.content() or "")[:600]
        raise AssertionError(f"no provider login form at {page.url}: {body}") from exc
    page.fill("input[name=login]", person)
    page.fill("input[name=password]", "any-password")
    page.click("button[type=submit]")


def sso_login(page: Any, base: str, person: str, landed: str) -> str:
    """Open ``base``, use the single sign-on button by keyboard, log in; return the token."""
    page.goto(base)
    button = page.locator("#oidc-login")
    button.wait_for(state="visible", timeout=30_000)
    assert button.inner_text() == "Inloggen met de gemeente-account"
    button.focus()
    page.keyboard.press("Enter")  # a link: a navigation, which the CSP allows
    log_in_at_provider(page, person)
    page.wait_for_selector(landed, timeout=30_000)
    assert page.evaluate("location.hash") == ""  # the #oidc marker is gone again
    token: str = page.evaluate("sessionStorage.getItem('werkplek.token')")
    assert token
    return token


def test_app_login_through_the_provider_booking_logout_and_key_rotation(page, sso):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    token = sso_login(page, f"{sso.url}/app/", "anna", "#desks li[data-space-id]")
    assert "Ingelogd als Anna de Vries" in page.inner_text("#hello")
    booking_flow(page, "Gelukt", "geannuleerd", None)

    page.click("#logout")
    page.locator("#oidc-end").wait_for(state="visible", timeout=30_000)
    assert page.get_attribute("#oidc-end", "href").startswith(f"{sso.idp.issuer}/session/end?")
    answer = httpx.get(
        f"{sso.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert answer.status_code == 401

    # The provider rotates its signing key; the backend fetches the new key set.
    old_kid = sso.idp.kid
    sso.idp.rotate()
    assert sso.idp.kid != old_kid
    keys = httpx.get(f"{sso.idp.issuer}/jwks", timeout=30).json()["keys"]
    assert [k["kid"] for k in keys] == [sso.idp.kid]
    again = sso_login(page, f"{sso.url}/app/", "anna", "#desks li[data-space-id]")
    assert again != token
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_facility_pages_log_in_through_the_provider(page, sso):
    token = sso_login(page, f"{sso.url}/facility/", "piet", "#app-view:not([hidden])")
    me = httpx.get(f"{sso.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert me.json()["role"] == "facility"  # from his group at the provider
    assert page.locator("#logout").is_visible() and not page.locator("#login-view").is_visible()


def test_a_cancelled_login_is_explained_in_our_words(page, sso):
    page.goto(f"{sso.url}/app/?lang=en")
    page.locator("#oidc-login").wait_for(state="visible", timeout=30_000)
    assert page.inner_text("#oidc-login") == "Log in with your municipality account"
    page.click("#oidc-login")
    page.wait_for_selector("input[name=login]", timeout=60_000)
    page.click("text=Cancel")  # the provider's "[ Cancel ]" link aborts the login
    # Back on the page (in the browser's language again: ?lang= is not carried through).
    page.wait_for_function(
        "() => document.getElementById('login-error').textContent.includes('afgebroken')",
        timeout=30_000,
    )
    assert page.locator("#login-view").is_visible()
