"""Topics and payload rules of the firmware against the shared contract module.

The firmware's messages against the golden files: ``test_golden_messages.py``.
"""

from __future__ import annotations

import node as topics  # the contract side of the firmware lives in node
import pytest
import wp_config

import contract
from gateway.messages import PresenceMessage, parse_message


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
    # under CPython they are plain globals, so the copies can be held to one another and
    # each value sent through the gateway's parser (the golden files hold the reverse:
    # every source and reason there is one the node knows, test_golden_messages.py).
    assert topics._SOURCES == wp_config._SOURCES
    for source in topics._SOURCES:
        for reason in topics._REASONS:
            raw = topics.presence_payload(0, 1, None, True, source, 1.0, reason)
            message = parse_message("werkplek/v1/hq/d-0001/presence", raw.encode(), 0)
            assert isinstance(message, PresenceMessage)
            assert (message.source, message.reason) == (source, reason)
