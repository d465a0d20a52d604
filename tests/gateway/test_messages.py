import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract import REASON_CODES
from contract import ContractError as InvalidMessage
from contract.device import MAX_AGE_MS, correct_clock
from gateway.messages import (
    PresenceMessage,
    RegistryMessage,
    StatusMessage,
    TelemetryMessage,
    parse_message,
)
from tests.gateway.golden import CONSUMED, DEVICE_KINDS, examples, payload_of

NOW = 1764410460000  # one minute after the golden presence ts
VALID = examples("valid", *DEVICE_KINDS)
INVALID = examples("invalid", *CONSUMED)
TOPIC = "werkplek/v1/hq/d-0001/presence"


@pytest.mark.parametrize("entry", VALID, ids=[e["name"] for e in VALID])
def test_every_valid_golden_message_is_accepted(entry):
    msg = parse_message(entry["topic"], payload_of(entry), NOW)
    kind = entry["topic"].rsplit("/", 1)[1]
    expected = {"presence": PresenceMessage, "status": StatusMessage, "telemetry": TelemetryMessage}
    assert isinstance(msg, expected[kind])
    assert msg.device_id == entry["topic"].split("/")[3]
    if kind == "presence":
        body = entry["payload"]
        assert msg.occupied is body["occupied"]
        assert msg.seq == body["seq"]
        assert msg.source == body["source"]
        assert msg.boot == body.get("boot")
        assert msg.device_ts == body["ts"]


@pytest.mark.parametrize("entry", INVALID, ids=[e["name"] for e in INVALID])
def test_every_invalid_golden_message_is_rejected_with_its_reason(entry):
    with pytest.raises(InvalidMessage) as caught:
        parse_message(entry["topic"], payload_of(entry), NOW)
    assert caught.value.reason == entry["reason"]
    assert caught.value.detail


def test_golden_invalid_set_covers_every_reason_code():
    # wrong_site needs the registry, not just the message: tested with a real gateway
    # in test_device_identity.py. mismatch and too_many are the backend's (space states
    # and health records, its store's capacity): see tests/contracts.
    backend_only = {"mismatch", "too_many"}
    assert {e["reason"] for e in INVALID} == set(REASON_CODES) - {"wrong_site"} - backend_only


def presence(**fields):
    body = {"v": 1, "seq": 1, "ts": NOW, "occupied": True, "source": "pir"}
    body.update(fields)
    return json.dumps(body).encode()


def test_device_clock_is_kept_when_plausible():
    msg = parse_message(TOPIC, presence(ts=NOW - 5000), NOW)
    assert (msg.ts, msg.clock_corrected) == (NOW - 5000, False)


@pytest.mark.parametrize(
    ("device_ts", "why"),
    [(None, "unset"), (NOW + 61_000, "future"), (NOW - MAX_AGE_MS - 1, "ancient")],
)
def test_device_clock_is_replaced_by_receive_time(device_ts, why):
    msg = parse_message(TOPIC, presence(ts=device_ts), NOW)
    assert msg.ts == NOW, why
    assert msg.clock_corrected is True
    assert msg.device_ts == device_ts


def test_clock_tolerance_edges():
    assert correct_clock(NOW + 60_000, NOW) == (NOW + 60_000, False)
    assert correct_clock(NOW - MAX_AGE_MS, NOW) == (NOW - MAX_AGE_MS, False)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"ts": 1.7e12}, "bad_type"),
        ({"ts": 10**17}, "out_of_range"),
        ({"boot": 2**32}, "out_of_range"),
        ({"boot": "x"}, "bad_type"),
        ({"confidence": True}, "bad_type"),
        ({"confidence": -0.1}, "out_of_range"),
        ({"reason": "because"}, "out_of_range"),
        ({"source": 3}, "bad_type"),
        ({"v": "1"}, "bad_type"),
        ({"seq": 2**63}, "out_of_range"),
    ],
)
def test_presence_field_rules(fields, reason):
    with pytest.raises(InvalidMessage) as caught:
        parse_message(TOPIC, presence(**fields), NOW)
    assert caught.value.reason == reason


def test_missing_ts_and_missing_version_are_missing_fields():
    for drop in ("ts", "v", "seq", "source"):
        body = json.loads(presence())
        del body[drop]
        with pytest.raises(InvalidMessage) as caught:
            parse_message(TOPIC, json.dumps(body).encode(), NOW)
        assert caught.value.reason == "missing_field", drop


def test_nan_and_infinity_are_not_json():
    with pytest.raises(InvalidMessage) as caught:
        parse_message(TOPIC, presence().replace(b'"seq": 1', b'"seq": NaN'), NOW)
    assert caught.value.reason == "bad_json"


def test_optional_fields_may_be_null():
    msg = parse_message(TOPIC, presence(boot=None, confidence=None, reason=None), NOW)
    assert (msg.boot, msg.confidence, msg.reason) == (None, None, None)


REG_TOPIC = "werkplek/v1/hq/_registry/d-0001"
REG = {
    "v": 1,
    "device_id": "d-0001",
    "site": "hq",
    "space_id": "hq.1.d-001",
    "kind": "desk",
    "floor": "hq-1",
    "zone": None,
    "heartbeat_s": 600,
}


def test_registry_assignment_and_unassignment():
    msg = parse_message(REG_TOPIC, json.dumps(REG).encode(), NOW)
    assert isinstance(msg, RegistryMessage)
    assert msg.assignment is not None
    assert (msg.assignment.space_id, msg.assignment.kind, msg.assignment.floor) == (
        "hq.1.d-001",
        "desk",
        "hq-1",
    )
    empty = parse_message(REG_TOPIC, b"", NOW)
    assert isinstance(empty, RegistryMessage) and empty.assignment is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"device_id": "d-0002"}, "out_of_range"),
        ({"space_id": "Bad Space"}, "out_of_range"),
        ({"kind": "sofa"}, "out_of_range"),
        ({"heartbeat_s": 0}, "out_of_range"),
        ({"heartbeat_s": "600"}, "bad_type"),
        ({"v": 2}, "bad_version"),
    ],
)
def test_registry_rules(change, reason):
    with pytest.raises(InvalidMessage) as caught:
        parse_message(REG_TOPIC, json.dumps({**REG, **change}).encode(), NOW)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    "topic",
    [
        "werkplek/v1/hq/_registry/D",
        "werkplek/v1/hq/d-0001/config",
        "werkplek/v1/hq/_space/x/state",
        "",
        "werkplek",
    ],
)
def test_topics_the_gateway_does_not_consume_are_bad_topics(topic):
    with pytest.raises(InvalidMessage) as caught:
        parse_message(topic, b"{}", NOW)
    assert caught.value.reason == "bad_topic"


@pytest.mark.parametrize("bad", ["\n", "\r", "\x00", "+", "#", " "])
@pytest.mark.parametrize(
    "template",
    [
        "werkplek/v1/hq/d-0001{}/presence",
        "werkplek/v1/hq/{}d-0001/status",
        "werkplek/v1/hq{}/d-0001/telemetry",
        "werkplek/v1/hq/_registry/d-0001{}",
        "werkplek/v1/hq{}/_registry/d-0001",
    ],
)
def test_ids_with_control_or_wildcard_characters_are_bad_topics(template, bad):
    """An id is matched whole: a trailing newline once passed the check."""
    with pytest.raises(InvalidMessage) as caught:
        parse_message(template.format(bad), b"online", NOW)
    assert caught.value.reason == "bad_topic"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
topics = st.sampled_from(
    [
        TOPIC,
        "werkplek/v1/hq/d-0001/status",
        "werkplek/v1/hq/d-0001/telemetry",
        REG_TOPIC,
    ]
) | st.text(max_size=60)


@settings(max_examples=250, deadline=None)
@given(topic=topics, payload=st.binary(max_size=1100))
def test_random_bytes_only_ever_raise_invalid_message(topic, payload):
    try:
        parse_message(topic, payload, int(time.time() * 1000))
    except InvalidMessage as exc:
        assert exc.reason in REASON_CODES


@settings(max_examples=250, deadline=None)
@given(
    topic=topics,
    base=st.sampled_from([json.loads(presence()), REG, {"v": 1}]),
    extra=st.dictionaries(
        st.sampled_from(
            [
                "v",
                "seq",
                "boot",
                "ts",
                "occupied",
                "source",
                "confidence",
                "reason",
                "uptime_s",
                "rssi",
                "heap_free",
                "fw",
                "battery_v",
                "device_id",
                "site",
                "space_id",
                "kind",
                "floor",
                "zone",
                "heartbeat_s",
            ]
        ),
        json_values,
    ),
)
def test_random_json_objects_only_ever_raise_invalid_message(topic, base, extra):
    payload = json.dumps({**base, **extra}).encode()
    try:
        parse_message(topic, payload, NOW)
    except InvalidMessage as exc:
        assert exc.reason in REASON_CODES
