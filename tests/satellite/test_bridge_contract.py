"""The bridge-state message against its golden file, both ways."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contract.bridge import (
    SUB_BRIDGE_STATE,
    BridgeState,
    BridgeStateError,
    bridge_client_id,
    bridge_state_topic,
    encode_bridge_state,
    is_bridge_state_topic,
    parse_bridge_state,
)

GOLDEN = json.loads((Path(__file__).parents[1] / "contracts" / "v1" / "bridge.json").read_text())


@pytest.mark.parametrize("case", GOLDEN["valid"], ids=lambda c: c["name"])
def test_valid_examples_parse_and_encode_back(case: dict[str, Any]) -> None:
    parsed = parse_bridge_state(case["topic"], case["payload_text"].encode())
    assert parsed == BridgeState(case["site"], case["linked"])
    assert bridge_state_topic(parsed.site) == case["topic"]
    assert encode_bridge_state(parsed.linked) == case["payload_text"].encode()
    assert is_bridge_state_topic(case["topic"])


@pytest.mark.parametrize("case", GOLDEN["invalid"], ids=lambda c: c["name"])
def test_invalid_examples_are_refused_with_their_reason(case: dict[str, Any]) -> None:
    with pytest.raises(BridgeStateError) as caught:
        parse_bridge_state(case["topic"], case["payload_text"].encode())
    assert caught.value.reason == case["reason"]


def test_topic_fits_the_subscription_and_no_device_topic() -> None:
    topic = bridge_state_topic("dalfsen")
    sub = SUB_BRIDGE_STATE.split("/")
    assert all(s in ("+", t) for s, t in zip(sub, topic.split("/"), strict=True))
    # "_bridge" can never be a device id, so no device topic can collide with it.
    assert topic.split("/")[3].startswith("_")
    assert bridge_client_id("dalfsen") == "werkplek-bridge-dalfsen"
    with pytest.raises(ValueError, match="breaks the contract"):
        bridge_state_topic("bad/site")
    with pytest.raises(ValueError, match="breaks the contract"):
        bridge_client_id("#")
