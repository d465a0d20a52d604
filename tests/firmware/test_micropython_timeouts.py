"""``wp_compat.wait_for_ms`` in the MicroPython unix port: the node's own timeouts.

Why a test of its own: the node no longer uses ``asyncio.wait_for_ms`` (its module
``asyncio.funcs`` costs heap), so the timeouts of every read, PUBACK wait and
connect rest on this function: in time, too late, cancelled from outside.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"
pytestmark = pytest.mark.integration  # runs the real MicroPython binary

SCRIPT = r"""
import sys, json
sys.path.insert(0, %(firmware)r)
import asyncio
from wp_compat import wait_for_ms
out = {}
async def later(ms, value):
    await asyncio.sleep_ms(ms)
    return value
async def swallow():
    try:
        await asyncio.sleep_ms(2000)
    except asyncio.CancelledError:
        pass
    return "swallowed"
async def outer(log):
    try:
        await wait_for_ms(later(3000, "never"), 2000)
    except asyncio.CancelledError:
        log.append("cancelled")
        raise
    except asyncio.TimeoutError:
        log.append("timeout")
async def main():
    out["in_time"] = await wait_for_ms(later(10, "value"), 2000)
    try:
        await wait_for_ms(later(2000, "late"), 50)
        out["late"] = "no timeout"
    except asyncio.TimeoutError:
        out["late"] = "timeout"
    try:
        out["swallowed"] = await wait_for_ms(swallow(), 50)
    except asyncio.TimeoutError:
        out["swallowed"] = "timeout"
    event = asyncio.Event()
    async def setter():
        await asyncio.sleep_ms(20)
        event.set()
    asyncio.create_task(setter())
    out["event"] = await wait_for_ms(event.wait(), 2000)
    log = []
    task = asyncio.create_task(outer(log))
    await asyncio.sleep_ms(20)
    task.cancel()
    try:
        await task
        log.append("finished")
    except asyncio.CancelledError:
        log.append("outer saw cancel")
    out["outside"] = log
    # No alarm outlives its wait: this task sleeps past every timeout set above.
    survivor = []
    async def sleeper():
        await asyncio.sleep_ms(2500)
        survivor.append(1)
    await sleeper()
    out["survived"] = survivor == [1]
    out["funcs_loaded"] = "asyncio.funcs" in sys.modules
asyncio.run(main())
print(json.dumps(out))
"""


def test_wait_for_ms_times_out_returns_and_passes_on_outside_cancels(micropython_bin, tmp_path):
    script = tmp_path / "timeouts.py"
    script.write_text(SCRIPT % {"firmware": str(FIRMWARE)})
    result = subprocess.run(
        [micropython_bin, str(script)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["in_time"] == "value"
    assert out["late"] == "timeout"
    # Awaited code that swallows the cancel still ends in a timeout, as with asyncio's own.
    assert out["swallowed"] == "timeout"
    assert out["event"] is True
    # A cancel from outside is not turned into a timeout.
    assert out["outside"] == ["cancelled", "outer saw cancel"]
    assert out["survived"] is True
    # The point of the function: asyncio's funcs module (1.3 KB of heap) stays unloaded.
    assert out["funcs_loaded"] is False
