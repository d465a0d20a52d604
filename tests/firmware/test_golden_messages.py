"""The node's device messages against every golden device message of contract v1.

The golden files in ``tests/contracts/v1`` are the one description of what a
device sends (``tests/firmware/golden.py`` reads whatever is there; the firmware
keeps no copies). Writer -> reader: what the firmware writes is read back with
the gateway's parser, the reader the golden files pin on the other side.
"""

from __future__ import annotations

import json

import node as firmware_node
import node_reports
import pytest
import wp_config
from node import Node, presence_payload

from gateway.messages import PresenceMessage, TelemetryMessage, parse_message
from tests.firmware import golden

#: The presence encoder's arguments, named as the contract's fields.
ENCODER_FIELDS = ("seq", "boot", "ts", "occupied", "source", "confidence", "reason")
#: The telemetry encoder's arguments (``fw`` is the firmware's own version).
TELEMETRY_FIELDS = ("uptime_s", "rssi", "heap_free", "battery_v")
#: Receive time for the reader: the golden examples' own time (no clock correction).
RECEIVED_MS = 1_764_410_400_000


def _ids(example: golden.Example) -> str:
    return f"{example.source}:{example.name}"


def _full_presence() -> list[golden.Example]:
    """Valid canonical presence examples with exactly the fields the node writes."""
    return [
        e
        for e in golden.valid("presence")
        if e.canonical and isinstance(e.data, dict) and set(e.data) == {"v", *ENCODER_FIELDS}
    ]


def _read(topic: str, raw: str) -> PresenceMessage:
    """The gateway's reading of a presence message the firmware wrote."""
    message = parse_message(topic, raw.encode(), RECEIVED_MS)
    assert isinstance(message, PresenceMessage)
    return message


def _node(site: str = "hq", device_id: str = "d-0001", **cfg: object) -> Node:
    return Node({"device_id": device_id, "site": site, **cfg}, lambda: False)


def test_the_golden_files_hold_device_messages_of_every_kind():
    # Guards the tests below against an empty or unreadable folder passing vacuously.
    assert _full_presence(), "no presence example with every field the node writes"
    assert golden.invalid("presence")
    assert {e.raw for e in golden.valid("status")} >= {b"online", b"offline"}
    assert golden.valid("telemetry") and golden.invalid("telemetry")


@pytest.mark.parametrize(
    "example",
    golden.valid("presence") + golden.valid("status") + golden.valid("telemetry"),
    ids=_ids,
)
def test_the_node_publishes_on_the_topic_of_each_valid_golden_message(example):
    node = _node(example.site, example.device_id)
    assert node.topic_base + example.kind == example.topic
    assert wp_config.device_topic(example.site, example.device_id, example.kind) == example.topic


@pytest.mark.parametrize(
    "example", [e for e in golden.device_examples() if e.reason == "bad_topic"], ids=_ids
)
def test_the_node_never_builds_a_refused_golden_topic(example):
    try:
        topic = wp_config.topic_base(example.site, example.device_id) + example.kind
    except ValueError:
        return  # refused: not a valid id
    assert topic != example.topic


@pytest.mark.parametrize("example", _full_presence(), ids=_ids)
def test_the_presence_encoder_writes_each_golden_example(example):
    raw = presence_payload(*(example.data[key] for key in ENCODER_FIELDS))
    assert json.loads(raw) == example.data
    message = _read(example.topic, raw)
    assert (message.seq, message.boot, message.occupied) == (
        example.data["seq"],
        example.data["boot"],
        example.data["occupied"],
    )


@pytest.mark.parametrize(
    "example", [e for e in golden.invalid("presence") if isinstance(e.data, dict)], ids=_ids
)
def test_no_invalid_golden_presence_message_leaves_the_encoder(example):
    """The encoder refuses (``ValueError``) or writes a message the gateway accepts.

    The fields come from the invalid example where it has them, else from a valid one.
    ``ts`` is the valid one's: the encoder takes the node's clock, which counts unix
    milliseconds by construction (``test_node_messages_are_read_back_by_the_gateway``).
    """
    base = _full_presence()[0]
    fields = {key: example.data.get(key, base.data[key]) for key in ENCODER_FIELDS}
    fields["ts"] = base.data["ts"]
    try:
        raw = presence_payload(**fields)
    except ValueError:
        return
    parse_message(base.topic, raw.encode(), RECEIVED_MS)


@pytest.mark.parametrize("clock_set", [True, False])
@pytest.mark.parametrize("reason", ["change", "heartbeat"])
def test_node_messages_are_read_back_by_the_gateway(clock_set, reason):
    node = _node(clock_set=clock_set)
    node.enqueue(reason, 0)
    raw = node.queue[-1][1]
    message = _read(node.topic_base + "presence", raw)
    assert (message.seq, message.reason, message.boot) == (0, reason, node.boot)
    if clock_set:
        assert message.device_ts is not None
        assert message.device_ts > 1_600_000_000_000  # unix milliseconds, not seconds
    else:
        assert message.device_ts is None
    # Every field is one the golden messages use, with a type they use for it.
    types: dict[str, set[type]] = {}
    for example in golden.valid("presence"):
        for key, value in example.data.items():
            types.setdefault(key, set()).add(type(value))
    types["confidence"] |= {int, float}  # 1.0 and 0.93 alike
    for key, value in json.loads(raw).items():
        assert key in types, f"{key} is in no golden presence message"
        assert type(value) in types[key] or value is None and type(None) in types[key], key
    # Every source and reason of the golden messages is one the node knows.
    for example in golden.valid("presence"):
        assert example.data["source"] in firmware_node._SOURCES
        assert example.data.get("reason", "change") in firmware_node._REASONS


@pytest.mark.parametrize("example", golden.valid("status"), ids=_ids)
def test_each_golden_status_is_the_nodes_birth_or_last_will(example):
    client = _node(example.site, example.device_id).client
    # (topic, payload, retain); the node sends both with QoS 1.
    assert example.raw in {client.birth[1].encode(), client.will[1].encode()}
    assert client.birth[0] == client.will[0] == example.topic
    assert client.birth[2] is client.will[2] is True
    assert example.retain in (None, True) and example.qos in (None, 1)
    parse_message(example.topic, example.raw, RECEIVED_MS)


@pytest.mark.parametrize("example", golden.invalid("status"), ids=_ids)
def test_the_node_sends_no_refused_status(example):
    client = _node().client
    assert example.raw not in {client.birth[1].encode(), client.will[1].encode()}


@pytest.mark.parametrize("example", golden.valid("telemetry"), ids=_ids)
def test_the_telemetry_encoder_writes_each_golden_example(example):
    raw = node_reports.telemetry_payload(*(example.data[key] for key in TELEMETRY_FIELDS))
    written = json.loads(raw)
    assert isinstance(written.pop("fw"), str)  # the firmware's own version
    assert written == {k: v for k, v in example.data.items() if k != "fw"}
    parse_message(example.topic, raw.encode(), RECEIVED_MS)


@pytest.mark.parametrize(
    "example", [e for e in golden.invalid("telemetry") if isinstance(e.data, dict)], ids=_ids
)
def test_no_invalid_golden_telemetry_leaves_the_encoder(example):
    """Like presence: refused, or written so that the gateway accepts it."""
    base = golden.valid("telemetry")[0]
    fields = [example.data.get(key, base.data[key]) for key in TELEMETRY_FIELDS]
    try:
        raw = node_reports.telemetry_payload(*fields)
    except ValueError:
        return
    parse_message(base.topic, raw.encode(), RECEIVED_MS)


def test_node_telemetry_is_read_back_by_the_gateway():
    node = _node()
    raw = node_reports.telemetry(node, {"status": "applied", "rev": 3})
    message = parse_message(node.topic_base + "telemetry", raw.encode(), RECEIVED_MS)
    assert isinstance(message, TelemetryMessage)
    assert message.uptime_s == 0 and message.rssi is None
    # Every field of every golden telemetry message is in the node's.
    written = json.loads(raw)
    for example in golden.valid("telemetry"):
        assert set(example.data) <= set(written), example.name
