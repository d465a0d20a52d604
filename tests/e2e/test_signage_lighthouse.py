"""Lighthouse (desktop preset) on the floor screen: performance at least 95, layout shift
under 0.02, total blocking time under 100 ms, no console errors (a missing favicon was one).

Lighthouse 12.2.3 is pinned in tests/lighthouse (``npm ci`` by scripts/ensure-test-services.sh;
13 needs Node 22). Scores wobble on a loaded machine, so the median of three runs is judged;
the run is ``serial`` (alone, after the parallel part of ``make test``). Lighthouse's own
simulated throttling keeps blocking time comparable between machines."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_signage_screens import floor_ids, screens

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.serial,  # asserts performance figures
    pytest.mark.slow,  # three Lighthouse runs, 35 s: started first in the serial phase
]

LIGHTHOUSE = (
    Path(__file__).resolve().parents[1] / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
)
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync"
)
RUNS = 3


#: Lighthouse runs that could not measure at all (a runtime error such as NO_NAVSTART: the
#: trace of the page load was not recorded, seen once on a machine at load 10+) are run
#: again, up to this many times; a run that measured is judged as it came out.
MEASURE_ATTEMPTS = 3


def audit(url: str, out: Path, chromium: str) -> dict[str, Any]:
    """One Lighthouse run (desktop preset, performance only); the parts judged here."""
    if not LIGHTHOUSE.exists():
        raise RuntimeError(f"{LIGHTHOUSE} missing: run `npm ci` in tests/lighthouse")
    for _attempt in range(MEASURE_ATTEMPTS):
        done = subprocess.run(
            [str(LIGHTHOUSE), url, "--preset=desktop", "--only-categories=performance",
             "--output=json", f"--output-path={out}", "--quiet", f"--chrome-flags={CHROME_FLAGS}"],
            check=False, timeout=180, env={**os.environ, "CHROME_PATH": chromium},
        )  # fmt: skip
        report = json.loads(out.read_text()) if out.exists() else {}
        error = report.get("runtimeError")
        if done.returncode == 0 and report and not error:
            break
        out.unlink(missing_ok=True)
    assert done.returncode == 0 and report, f"Lighthouse failed {MEASURE_ATTEMPTS} times: {error}"
    assert not error, error
    audits = report["audits"]
    return {
        "performance": round(report["categories"]["performance"]["score"] * 100),
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
        "console_errors": audits["errors-in-console"]["details"]["items"]
        if "errors-in-console" in audits and audits["errors-in-console"].get("details")
        else [],
    }


def test_signage_lighthouse_desktop(tmp_path, mosquitto_factory, chromium_path, record_property):
    with screens(tmp_path, mosquitto_factory, "e2e-lighthouse") as s:
        ids = floor_ids(s, "hq-1")
        s.states({sid: ("occupied" if i % 3 == 0 else "vacant") for i, sid in enumerate(ids)})
        icon = httpx.get(f"{s.url}/favicon.svg", timeout=30)
        assert icon.status_code == 200
        assert icon.headers["content-type"].startswith("image/svg+xml")
        assert (
            httpx.get(f"{s.url}/favicon.ico", timeout=30).status_code == 200
        )  # pages naming no icon
        # With the floor's drawing and the screen's "U bent hier", as a placed screen shows it.
        url = f"{s.url}/signage/?site=hq&floor=hq-1&here=960,247#token={s.signage_token}"
        runs = [audit(url, tmp_path / f"lh-{n}.json", chromium_path) for n in range(RUNS)]
    median = {
        k: statistics.median(r[k] for r in runs) for k in ("performance", "cls", "tbt_ms", "lcp_ms")
    }
    for key, value in median.items():
        record_property(f"lighthouse_median_{key}", value)
    record_property("lighthouse_runs", json.dumps([{k: r[k] for k in median} for r in runs]))
    assert median["performance"] >= 95, runs
    assert median["cls"] < 0.02, runs
    assert median["tbt_ms"] < 100, runs
    assert all(not r["console_errors"] for r in runs), runs
