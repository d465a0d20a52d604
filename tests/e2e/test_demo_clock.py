"""`werkplek demo` runs one simulated day for the fleet, the bookings, the rules and the pages.

The demo starts on a working-day morning a week or more from now (``--start
YYYY-MM-DDTHH:MM``), so whatever the real clock says (night, weekend), booking a desk in
the app and booking the room now on the door panel succeed (not "outside opening hours"),
the bookings fall on the simulated day, and the door panel's clock shows the simulated time.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.services import free_port, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

AMS = ZoneInfo("Europe/Amsterdam")
READY_BOUND_S = 60.0  # as tests/e2e/test_demo.py: the demo serves within a minute


def simulated_morning(today: dt.date) -> dt.datetime:
    """10:00 on the first working day at least a week after ``today``: never the real day."""
    day = today + dt.timedelta(days=7)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(10, 0), AMS)


@pytest.mark.serial  # asserts the 60 s start bound, as tests/e2e/test_demo.py
def test_demo_books_and_shows_the_simulated_day(tmp_path, browser):
    start = simulated_morning(dt.datetime.now(AMS).date())
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WERKPLEK_")},
        "WERKPLEK_EMBEDDED_MQTT_PORT": str(free_port()),
        "WERKPLEK_HTTP_PORT": str(free_port()),
        "WERKPLEK_DEMO_HISTORY_WEEKS": "0",  # the reports are test_demo.py's; here the clock
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "werkplek", "demo", "--start", f"{start:%Y-%m-%dT%H:%M}"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(proc.stdout or []), daemon=True).start()
    context = None
    try:
        wait_until(
            lambda: any("Door panel" in line for line in output) or proc.poll() is not None,
            READY_BOUND_S,
            what="demo prints its URLs",
        )
        panel_line = next((x for x in output if "Door panel" in x), None)
        assert panel_line, "".join(output[-40:])
        panel_url = re.search(r"http://\S+", panel_line).group(0)
        base = panel_url.split("/signage/")[0]
        # It says that the day is simulated, and which day.
        assert any("Simulated office time starts" in x for x in output), "".join(output[-40:])

        # Every answer carries the simulated time (speed 1: close to the start).
        stamped = httpx.get(f"{base}/api/v1/health", timeout=30).headers["Werkplek-Time"]
        moment = dt.datetime.fromtimestamp(int(stamped) / 1000, dt.UTC)
        assert dt.timedelta(0) <= moment - start < dt.timedelta(minutes=10), (moment, start)

        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, locale="nl-NL", has_touch=True
        )
        page = context.new_page()
        page.goto(panel_url)
        # The panel's clock shows the simulated morning, not the browser's time.
        wait_until(
            lambda: (
                (page.get_attribute("#clock", "datetime") or "")[:10] == start.date().isoformat()
            ),
            30,
            interval=0.2,
            what="the door panel's clock on the simulated day",
        )
        shown = page.text_content("#clock") or ""
        assert re.fullmatch(r"10:0\d", shown.strip()), shown
        # Book the room now: open on the simulated morning, so the buttons are on.
        thirty = '#buttons button[data-minutes="30"]'
        wait_until(lambda: page.is_enabled(thirty), 30, interval=0.2, what="book-now enabled")
        assert "Gesloten" not in (page.text_content("#book-why") or "")
        page.tap(thirty)
        wait_until(
            lambda: (page.text_content("#book-result") or "").startswith("Gereserveerd tot "),
            15,
            what="the room booked from the door panel",
        )

        # The booking app: the printed login books a desk on the simulated day.
        app_line = next(x for x in output if "Booking app" in x)
        user, password = re.search(r"log in: (\S+) / (\S+)\)", app_line).groups()
        app = context.new_page()
        app.goto(f"{base}/app/")
        app.fill("#username", user)
        app.fill("#password", password)
        app.click("#login-form button[type=submit]")
        try:
            app.wait_for_selector("#best li[data-space-id] button", timeout=30_000)
        except PlaywrightTimeout:  # failed once under two busy loops: say what the app showed
            shown = {k: app.text_content(k) for k in ("#notice", "#error", "#best", "#hello")}
            raise AssertionError(f"no place to book after login: {shown}") from None
        app.locator("#best li[data-space-id] button").first.click()
        app.locator("#confirm-ok").wait_for(state="visible")
        app.click("#confirm-ok")
        app.wait_for_function(
            "() => document.getElementById('confirm-status').textContent.includes('Gelukt')",
            timeout=30_000,
        )
        login = httpx.post(
            f"{base}/api/v1/auth/login", json={"username": user, "password": password}, timeout=30
        )
        assert login.status_code == 200, login.text
        mine = httpx.get(
            f"{base}/api/v1/bookings",
            params={"active": True},
            headers={"Authorization": f"Bearer {login.json()['token']}"},
            timeout=30,
        )
        assert mine.status_code == 200, mine.text
        days = {
            dt.datetime.fromisoformat(b["start_at"]).astimezone(AMS).date()
            for b in mine.json()["items"]
        }
        assert start.date() in days, days

        context.close()
        context = None
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, "".join(output[-40:])
        assert not [x for x in output if "Traceback" in x], "".join(output[-60:])
    finally:
        if context is not None:
            context.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
