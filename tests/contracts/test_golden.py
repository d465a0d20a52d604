"""Every message kind of contract v1 against its golden file: accepted, refused with its reason.

Each valid example is also written again by the contract's encoder (golden ->
parser -> encoder -> the same payload), so the files pin both sides. Device
messages are written by the firmware: tests/firmware/test_golden_messages.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import contract
from contract.bridge import encode_bridge_state, parse_bridge_state
from contract.device import encode_online, parse_device_message
from contract.health import parse_health
from contract.hvac import encode_hvac, parse_hvac
from contract.lease import parse_lease
from contract.registry import encode_registry, parse_registry
from contract.space_state import parse_space_state
from contract.status import encode_gateway_status, parse_gateway_status, parse_sync
from contract.topics import expect
from tests.contracts.golden import examples, kinds_with_files, load, payload_of

NOW = 1764410460000  # one minute after the golden presence ts


def _sync(topic: str, payload: bytes) -> Any:
    expect(topic, "gateway_sync")
    return parse_sync(payload)


def _lease(topic: str, payload: bytes) -> Any:
    expect(topic, "lease")
    return parse_lease(payload)


#: The one parser of each kind (topic and payload in, message out or ContractError).
PARSERS: dict[str, Callable[[str, bytes], Any]] = {
    "presence": lambda t, p: parse_device_message(expect(t, "presence"), p, NOW),
    "status": lambda t, p: parse_device_message(expect(t, "status"), p, NOW),
    "telemetry": lambda t, p: parse_device_message(expect(t, "telemetry"), p, NOW),
    "registry": lambda t, p: parse_registry(t, p, NOW),
    "space_state": parse_space_state,
    "health": parse_health,
    "gateway_status": lambda t, p: parse_gateway_status(expect(t, "gateway_status"), p),
    "gateway_history": lambda t, p: parse_gateway_status(expect(t, "gateway_history"), p),
    "gateway_sync": _sync,
    "lease": _lease,
    "hvac": parse_hvac,
    "bridge": parse_bridge_state,
}


def _online_word(status: Any) -> bytes:
    return b"" if status.online is None else encode_gateway_status(status.online)


#: The one encoder of each kind the services write (device kinds: the firmware's).
ENCODERS: dict[str, Callable[[Any], bytes]] = {
    "status": lambda msg: encode_online(msg.online),
    "registry": lambda msg: encode_registry(msg.assignment),
    "space_state": lambda state: b"" if state is None else state.payload(),
    "health": lambda record: b"" if record is None else record.payload(),
    "gateway_status": _online_word,
    "gateway_history": _online_word,
    "gateway_sync": lambda marker: marker.payload(),
    "lease": lambda lease: b"" if lease is None else lease.payload(),
    "hvac": encode_hvac,
    "bridge": lambda state: encode_bridge_state(state.linked),
}


def _cases(which: str) -> list[Any]:
    return [
        pytest.param(kind, entry, id=f"{kind}: {entry['name']}")
        for kind in sorted(contract.KINDS)
        for entry in load(kind)[which]
    ]


def test_every_kind_has_a_golden_file_with_valid_and_invalid_examples_and_a_parser():
    assert set(contract.KINDS) <= set(kinds_with_files())
    assert set(PARSERS) == set(contract.KINDS)
    for kind in contract.KINDS:
        assert load(kind)["valid"] and load(kind)["invalid"], kind


def test_the_invalid_examples_use_every_reason_code_a_message_alone_can_break():
    reasons = {e["reason"] for e in examples("invalid", *contract.KINDS)}
    # wrong_site needs the registry, too_many a full store: tested with the services.
    assert reasons == set(contract.REASON_CODES) - {"wrong_site", "too_many"}


@pytest.mark.parametrize(("kind", "entry"), _cases("valid"))
def test_each_valid_example_is_parsed_on_its_route_and_written_again_as_it_is(kind, entry):
    assert contract.parse_topic(entry["topic"]).kind == kind
    parsed = PARSERS[kind](entry["topic"], payload_of(entry))
    encode = ENCODERS.get(kind)
    if encode is None or entry.get("canonical") is False:
        return
    written = encode(parsed)
    if "payload" in entry:
        assert json.loads(written) == entry["payload"]
    else:
        assert written == payload_of(entry)


@pytest.mark.parametrize(("kind", "entry"), _cases("invalid"))
def test_each_invalid_example_is_refused_with_its_reason(kind, entry):
    assert contract.claimed_kind(entry["topic"]) in (kind, None)
    with pytest.raises(contract.ContractError) as caught:
        PARSERS[kind](entry["topic"], payload_of(entry))
    assert caught.value.reason == entry["reason"]
    assert caught.value.detail
