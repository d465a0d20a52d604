"""docs/firmware.md documents every node setting and every remotely settable key."""

from __future__ import annotations

from pathlib import Path

import remote_config
import wp_config

DOC = (Path(__file__).resolve().parents[2] / "docs" / "firmware.md").read_text()


def test_every_node_setting_is_documented():
    missing = [key for key in wp_config.DEFAULTS if f"`{key}`" not in DOC]
    assert not missing, f"add to docs/firmware.md: {missing}"


def test_every_remote_key_and_its_range_is_documented():
    for key, (low, high) in remote_config.REMOTE_KEYS.items():
        assert f"`{key}`" in DOC
        assert f"{low}–{high}" in DOC, (key, low, high)
