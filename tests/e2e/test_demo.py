"""`werkplek demo` as a newcomer runs it: embedded broker, SQLite, simulated fleet.

Runs the real command in a fresh folder, opens the URL it prints in Chromium,
waits until live desks show, checks the facility side (printed login and door
panel, every facility report filled from the seeded weeks of history within
the start-up bound, the facility page in Chromium), then stops it with Ctrl-C
(SIGINT) and checks it stops cleanly.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from tests.services import free_port, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
READY_BOUND_S = 60.0  # the bound for `make demo` serving live desks
REPORTS_BOUND_S = 60.0  # after the live desks: every facility report has figures


# serial: asserts the 60 s start bound of one process. In the parallel run it came first
# with the workers' own start-up and took 52 s, then over 60 s, beside two busy loops.
@pytest.mark.serial
def test_demo_serves_live_desks_and_stops_on_ctrl_c(tmp_path, page, record_property):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WERKPLEK_")},
        "WERKPLEK_EMBEDDED_MQTT_PORT": str(free_port()),
        "WERKPLEK_HTTP_PORT": str(free_port()),
    }
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "werkplek", "demo", "--speed", "30", "--start", "10:00"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(proc.stdout or []), daemon=True).start()
    try:
        wait_until(
            lambda: any("Start here" in line for line in output) or proc.poll() is not None,
            READY_BOUND_S,
            what="demo prints its URLs",
        )
        line = next((x for x in output if "Start here" in x), None)
        assert line, "".join(output[-40:])
        url = re.search(r"http://\S+", line).group(0)
        page.goto(url)

        def live_states() -> set[str]:
            return set(
                page.eval_on_selector_all(
                    "[data-space-id]", "els => els.map(e => e.getAttribute('data-state'))"
                )
            )

        wait_until(
            lambda: {"free", "occupied"} <= live_states(),
            READY_BOUND_S - (time.monotonic() - started),
            interval=0.2,
            what="free and occupied desks on the demo's first page",
        )
        ready_s = time.monotonic() - started
        record_property("demo_ready_s", round(ready_s, 2))
        print(f"\ndemo: live desks on the page {ready_s:.1f} s after start")
        assert len(page.query_selector_all("[data-space-id]")) >= 40
        # Status in text, not colour alone.
        body = page.text_content("body") or ""
        assert "Vrij" in body and "Bezet" in body

        # The printed demo login works in the booking app's API.
        app_line = next(x for x in output if "Booking app" in x)
        user, password = re.search(r"log in: (\S+) / (\S+)\)", app_line).groups()
        base = url.split("/signage/")[0]
        login = httpx.post(
            f"{base}/api/v1/auth/login", json={"username": user, "password": password}, timeout=30
        )
        assert login.status_code == 200, login.text
        assert login.json()["user"]["role"] == "employee"

        check_facility_side(page, output, base, started)

        proc.send_signal(signal.SIGINT)
        stopped = time.monotonic()
        assert proc.wait(timeout=30) == 0, "".join(output[-40:])
        record_property("demo_stop_s", round(time.monotonic() - stopped, 2))
        first = next((i for i, x in enumerate(output) if "Traceback" in x), None)
        # On failure, show the first traceback itself (the end of the log is only its echo).
        assert first is None, "".join(output[max(0, first - 5) : first + 40])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def _last_working_day(today: date) -> date:
    day = today - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def check_facility_side(page, output: list[str], base: str, started: float) -> None:
    """The printed facility login and door panel work, and every report has figures."""
    facility_line = next((x for x in output if "Facility pages" in x), None)
    assert facility_line, "".join(output[-40:])
    user, password = re.search(r"log in: (\S+) / (\S+)\)", facility_line).groups()
    panel_line = next((x for x in output if "Door panel" in x), None)
    assert panel_line, "".join(output[-40:])
    panel_url = re.search(r"http://\S+", panel_line).group(0)
    room = re.search(r"space=([^#&]+)", panel_url).group(1)
    panel_token = panel_url.split("#token=")[1]
    today_answer = httpx.get(
        f"{base}/api/v1/spaces/{room}/today",
        headers={"Authorization": f"Bearer {panel_token}"},
        timeout=30,
    )
    assert today_answer.status_code == 200, today_answer.text

    login = httpx.post(
        f"{base}/api/v1/auth/login", json={"username": user, "password": password}, timeout=30
    )
    assert login.status_code == 200, login.text
    assert login.json()["user"]["role"] == "facility"
    auth = {"Authorization": f"Bearer {login.json()['token']}"}
    # The page's own default period (the last four weeks) and its requests.
    end = date.today()
    period = f"start={end - timedelta(days=27)}&end={end}"
    past = _last_working_day(end)
    reports = {
        f"utilisation?level=floor&{period}": "rows",
        f"heatmap?level=floor&{period}": "rows",
        f"trend?level=floor&{period}": "rows",
        f"quiet-desks?{period}": "rows",
        f"booked-vs-used?{period}": "rows",  # with bookings: checked below
        "energy": "zones",
        f"cleaning?site=hq&day={past}": "clean",
    }

    def empty_reports() -> list[str]:
        empty = []
        for path, key in reports.items():
            answer = httpx.get(f"{base}/api/v1/facility/{path}", headers=auth, timeout=30)
            assert answer.status_code == 200, (path, answer.text)
            if not answer.json()[key]:
                empty.append(path)
            elif path.startswith("booked-vs-used") and not any(
                row["bookings"] for row in answer.json()["rows"]
            ):
                empty.append(path)
        return empty

    # The demo fills its history in the background after the desks are live; on a
    # loaded machine the desks took 52 s and the history more than the 5 s left of
    # the 60 s, so the reports have their own generous bound, and the time is printed.
    wait_until(
        lambda: not empty_reports(),
        REPORTS_BOUND_S,
        interval=1.0,
        what="every facility report has figures",
    )
    facility_s = time.monotonic() - started
    print(f"demo: facility reports filled {facility_s:.1f} s after start")

    # One page in Chromium: the login printed, then tables with rows.
    page.goto(f"{base}/facility/")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")

    def counts() -> tuple[int, int, int]:
        return (
            len(page.query_selector_all("#util-table tbody tr")),
            len(page.query_selector_all("#heat-table tbody td")),
            len(page.query_selector_all("#trend-table tbody tr")),
        )

    wait_until(lambda: min(counts()) > 0, 30, interval=0.3, what="facility tables with rows")
