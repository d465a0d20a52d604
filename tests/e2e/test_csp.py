"""Every page in Chromium under the strict Content-Security-Policy, with no violation.

The backend sends ``default-src 'self'`` without ``unsafe-inline`` on every answer
(``backend/middleware/headers.py``). The pages load their scripts and styles from
files and draw QR codes as ``data:`` images, so nothing may be refused: a
``securitypolicyviolation`` event or a "Refused to ..." console message fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backend.conftest import bearer
from tests.e2e.test_a11y import add_user
from tests.e2e.test_app import PASSWORD, running_backend

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.browser]

# Playwright's init scripts run outside the page's policy, so this listener is allowed.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
"""


def _log_in(page: Any, username: str, ready: str | None = None) -> None:
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_selector("#username", state="hidden")
    if ready:
        page.wait_for_selector(ready)


def test_every_page_runs_under_the_strict_policy(browser: Any, tmp_path: Path) -> None:
    console: list[str] = []
    checked: dict[str, list[str]] = {}
    with running_backend(tmp_path, "ann") as backend:
        add_user(backend.settings, "fenna", "facility")
        add_user(backend.settings, "ada", "admin")
        admin = httpx.post(
            f"{backend.url}/api/v1/auth/login",
            json={"username": "ada", "password": PASSWORD},
            timeout=30,
        ).json()["token"]
        panel = httpx.post(
            f"{backend.url}/api/v1/spaces/hq.1.r-02/panel-token", headers=bearer(admin), timeout=30
        )
        assert panel.status_code == 201, panel.text

        def fresh_page() -> Any:
            # One context per person, as on their own device (no shared session).
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_init_script(RECORD_VIOLATIONS)
            page = context.new_page()
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            return page

        def visit(page: Any, name: str, path: str, ready: str | None = None) -> None:
            answer = page.goto(f"{backend.url}{path}")
            assert answer is not None and answer.status == 200, path
            policy = answer.headers.get("content-security-policy", "")
            assert "script-src 'self'" in policy and "unsafe-inline" not in policy, path
            assert answer.headers.get("x-content-type-options") == "nosniff"
            if ready:
                page.wait_for_selector(ready)
            checked[name] = list(page.evaluate("window.__csp"))

        screen = fresh_page()
        token = backend.signage_token
        try:
            visit(screen, "signage", f"/signage/?site=hq&floor=hq-1#token={token}",
                  "[data-space-id]")  # fmt: skip
            visit(screen, "door panel", f"/signage/room.html?space=hq.1.r-02#token="
                  f"{panel.json()['token']}", "#room-name:not(:empty)")  # fmt: skip
        finally:
            screen.context.close()
        ann = fresh_page()
        try:
            visit(ann, "booking app", "/app/", "#username")
            _log_in(ann, "ann", "#desks li[data-space-id]")
            checked["booking app, logged in"] = list(ann.evaluate("window.__csp"))
            visit(ann, "accessibility statement", "/app/toegankelijkheid.html")
        finally:
            ann.context.close()
        fenna = fresh_page()
        try:
            visit(fenna, "facility", "/facility/?site=hq&floor=hq-1", "#username")
            _log_in(fenna, "fenna")
            checked["facility, logged in"] = list(fenna.evaluate("window.__csp"))
            visit(fenna, "qr sheet", "/app/qr.html?floor=hq-1", "#sheet li img")
            visit(fenna, "privacy page", "/facility/privacy.html")
            # The control: an inline style attribute is refused and the listener sees it.
            fenna.evaluate("document.body.setAttribute('style', 'color: red')")
            fenna.wait_for_function("() => window.__csp.length > 0")
            control = list(fenna.evaluate("window.__csp"))
        finally:
            fenna.context.close()
    assert control and control[0].startswith("style-src"), control
    refused = [line for line in console if "Content Security Policy" in line or "Refused" in line]
    assert len(refused) == 1, refused  # the control's, nothing else
    for name, violations in checked.items():
        assert violations == [], f"{name}: {violations}"
    assert len(checked) == 9
