"""docs/firmware.md documents every node setting and every remotely settable key."""

from __future__ import annotations

import re
from pathlib import Path

import remote_config
import wp_config

DOC = (Path(__file__).resolve().parents[2] / "docs" / "firmware.md").read_text()
FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"


def test_every_node_setting_is_documented():
    missing = [key for key in wp_config.DEFAULTS if f"`{key}`" not in DOC]
    assert not missing, f"add to docs/firmware.md: {missing}"


def test_every_remote_key_and_its_range_is_documented():
    for key, (low, high) in remote_config.REMOTE_KEYS.items():
        assert f"`{key}`" in DOC
        assert f"{low}–{high}" in DOC, (key, low, high)


#: Calls in the always-loaded modules whose first string is a short log or error code.
_CODE_CALLS = re.compile(
    r"(?:\b_?(?:say|log)\(|_lose\([\w.]+,|(?:MQTTError|ProtocolError|ValueError|OSError)\()"
    r'\s*"([^"]+)"'
)
_HOT = ("mqtt", "node", "pir", "ld2410")


def test_every_short_log_and_error_code_of_the_hot_modules_is_explained():
    """The hot modules log short codes (heap); the troubleshooting table must explain each."""
    codes = set()
    for name in _HOT:
        source = (FIRMWARE / f"{name}.py").read_text()
        for text in _CODE_CALLS.findall(source):
            # "MQTT big %d" -> "MQTT big"; "ack %d" -> "ack"; "len>4" stays whole.
            codes.add(text.split("%")[0].strip())
    # The scan finds them (a changed call pattern must not empty the check).
    assert {"MQTT down", "SENSOR", "DROP", "ping", "rd", "ack", "qos"} <= codes
    missing = sorted(code for code in codes if f"`{code}" not in DOC)
    assert not missing, f"explain in docs/firmware.md, section 5: {missing}"
