"""`werkplek demo` as a newcomer runs it: embedded broker, SQLite, simulated fleet.

Runs the real command in a fresh folder, opens the URL it prints in Chromium,
waits until live desks show, then stops it with Ctrl-C (SIGINT) and checks it
stops cleanly.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.services import free_port, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
READY_BOUND_S = 60.0  # the bound for `make demo` serving live desks


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
            f"{base}/api/v1/auth/login", json={"username": user, "password": password}
        )
        assert login.status_code == 200, login.text
        assert login.json()["user"]["role"] == "employee"

        proc.send_signal(signal.SIGINT)
        stopped = time.monotonic()
        assert proc.wait(timeout=30) == 0, "".join(output[-40:])
        record_property("demo_stop_s", round(time.monotonic() - stopped, 2))
        assert not [x for x in output if "Traceback" in x], "".join(output[-60:])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
