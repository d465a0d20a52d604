"""Topics and payloads of the firmware against contract v1 and its golden examples."""

from __future__ import annotations

import json
from pathlib import Path

import node as topics  # the contract side of the firmware lives in node
import pytest
import wp_config
from node import Node

import contract
from contract import device as messages

GOLDEN = Path(__file__).resolve().parents[1] / "contracts" / "v1"


def golden(kind: str) -> list[dict]:
    entries = json.loads((GOLDEN / f"{kind}.json").read_text())["valid"]
    return [e["payload"] for e in entries if "payload" in e]


def _types(value: object) -> set[str]:
    return {"null" if value is None else type(value).__name__}


def test_device_topics_match_the_shared_contract():
    for kind in contract.DEVICE_KINDS:
        assert wp_config.device_topic("hq", "d-0001", kind) == contract.device_topic(
            "hq", "d-0001", kind
        )
    parsed = contract.parse_device_topic(wp_config.device_topic("dorp-a", "r-0003", "presence"))
    assert (parsed.site, parsed.device_id, parsed.kind) == ("dorp-a", "r-0003", "presence")
    # The node publishes these literals (checked end to end, retained, in
    # test_micropython_node.py): they must be the contract's status payloads.
    assert (contract.STATUS_ONLINE, contract.STATUS_OFFLINE) == ("online", "offline")


@pytest.mark.parametrize(
    "value",
    ["d-0001", "a", "0" * 63, "", "-a", "A", "a_b", "a.b", "0" * 64, None, 7]
    + ["d-0001\n", "d-0001\r", "\nd", "d\x00", "d/1", "d+", "#"],
)
def test_id_check_agrees_with_the_contract_regex(value):
    expected = isinstance(value, str) and contract.is_valid_id(value)
    assert wp_config.is_valid_id(value) is expected


def test_invalid_ids_and_kinds_are_refused():
    with pytest.raises(ValueError):
        wp_config.device_topic("hq", "D-1", "presence")
    with pytest.raises(ValueError):
        wp_config.device_topic("hq", "d-1", "state")


@pytest.mark.parametrize("clock_set", [True, False])
@pytest.mark.parametrize("reason", ["change", "heartbeat"])
def test_node_presence_payload_has_the_keys_and_types_of_the_golden_examples(clock_set, reason):
    examples = golden("presence")
    allowed: dict[str, set[str]] = {}
    for ex in examples:
        for key, value in ex.items():
            allowed.setdefault(key, set()).update(_types(value))
    # Integers are valid where the examples use floats (confidence 1.0 vs 0.93).
    allowed["confidence"] |= {"int", "float"}
    required = set.intersection(*(set(ex) for ex in examples))

    node = Node({"device_id": "d-0001", "site": "hq", "clock_set": clock_set}, lambda: False)
    node.enqueue(reason, 0)
    raw = node.queue[-1][1]
    assert len(raw.encode()) <= contract.MAX_PAYLOAD_BYTES
    payload = json.loads(raw)
    assert required <= set(payload)
    for key, value in payload.items():
        assert key in allowed, f"{key} is not in any golden presence example"
        assert _types(value) <= allowed[key], (key, value)
    assert payload["v"] == 1 and payload["seq"] == 0 and payload["reason"] == reason
    assert payload["source"] in ("pir", "radar", "fused")
    assert 0 <= payload["boot"] < 2**32 and 0 <= payload["confidence"] <= 1
    assert (payload["ts"] is None) is (not clock_set)
    if clock_set:
        assert payload["ts"] > 1_600_000_000_000  # unix milliseconds, not seconds


def test_payload_builder_reproduces_a_golden_example():
    ex = golden("presence")[0]
    raw = topics.presence_payload(
        ex["seq"],
        ex["boot"],
        ex["ts"],
        ex["occupied"],
        ex["source"],
        ex["confidence"],
        ex["reason"],
    )
    assert json.loads(raw) == ex


@pytest.mark.parametrize(
    "kwargs",
    [
        {"seq": -1},
        {"seq": 1.5},
        {"source": "camera"},
        {"confidence": 1.5},
        {"reason": "boot"},
        {"boot": 2**32},
    ],
)
def test_payload_builder_refuses_what_the_gateway_would_reject(kwargs):
    args = {
        "seq": 0,
        "boot": 1,
        "ts": None,
        "occupied": True,
        "source": "pir",
        "confidence": 1.0,
        "reason": "change",
    } | kwargs
    with pytest.raises(ValueError):
        topics.presence_payload(**args)


def test_the_firmware_copies_of_the_contract_lists_agree_with_the_gateway():
    # node and wp_config each keep the lists as private consts (no name on the heap);
    # under CPython they are plain globals, so the copies can be held to one another.
    assert topics._SOURCES == wp_config._SOURCES == messages.SOURCES
    assert topics._REASONS == messages.REASONS
