"""The pure modules give the same answers in the MicroPython unix port as under CPython."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import mqtt
import mqtt_connect
import pytest
from node import presence_payload

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"
pytestmark = pytest.mark.integration  # runs the real MicroPython binary

SCRIPT = r"""
import sys, json, time
sys.path.insert(0, %(firmware)r)
import mqtt, mqtt_connect, wp_config
from node import PresenceMachine, presence_payload
out = {}
# Presence across the ticks_ms wrap-around (2**30 on MicroPython ports).
start = time.ticks_add(0, -1500)
m = PresenceMachine(1000, 2000, start)
t = start
changes = []
for step in range(80):
    t = time.ticks_add(t, 100)
    if m.update(t, step < 20):
        changes.append((step, m.occupied))
out["changes"] = changes
pkt = mqtt_connect.connect_packet("wp-d-1", 60, "u", "p", ("a/status", "offline", True))
out["connect"] = pkt.hex()
out["publish"] = mqtt.publish_packet("t", b"y" * 200, 1, True, True, 513).hex()
out["varints"] = [mqtt.head(0x30, n).hex() for n in (0, 127, 128, 16384, 268435455)]
topic, payload, qos, retain, dup, pid = mqtt_connect.parse_publish(3, b"\x00\x01t\x02\x01{}")
out["parsed"] = [topic, payload.decode(), qos, retain, dup, pid]
out["payload"] = json.loads(presence_payload(3, 7, None, True, "radar", 0.93, "change"))
out["valid"] = [wp_config.is_valid_id(s) for s in ("d-1", "-d", "D", "a" * 64)]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def micro(micropython_bin, tmp_path_factory) -> dict:
    script = tmp_path_factory.mktemp("mp") / "units.py"
    script.write_text(SCRIPT % {"firmware": str(FIRMWARE)})
    result = subprocess.run(
        [micropython_bin, str(script)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_presence_works_across_the_tick_wraparound(micro):
    # Presence for steps 0..19 (100 ms apart): occupied once seen for 1000 ms (step 10),
    # vacant 2000 ms after the last presence at step 19 (step 39).
    assert micro["changes"] == [[10, True], [39, False]]


def test_packets_are_byte_identical_to_cpython(micro):
    assert (
        micro["connect"]
        == mqtt_connect.connect_packet("wp-d-1", 60, "u", "p", ("a/status", "offline", True)).hex()
    )
    assert micro["publish"] == mqtt.publish_packet("t", b"y" * 200, 1, True, True, 513).hex()
    assert micro["varints"] == [mqtt.head(0x30, n).hex() for n in (0, 127, 128, 16384, 268435455)]
    assert micro["parsed"] == ["t", "{}", 1, True, False, 513]


def test_payload_and_ids_match_cpython(micro):
    expected = json.loads(presence_payload(3, 7, None, True, "radar", 0.93, "change"))
    assert micro["payload"] == expected
    assert micro["valid"] == [True, False, False, False]
