"""MQTT 3.1.1 packet encoding and decoding against exact bytes (spec section numbers in names)."""

from __future__ import annotations

import mqtt_connect
import pytest
from mqtt import MQTTError, head, publish_packet


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (16383, b"\xff\x7f"),
        (16384, b"\x80\x80\x01"),
        (2097151, b"\xff\xff\x7f"),
        (2097152, b"\x80\x80\x80\x01"),
        (268435455, b"\xff\xff\xff\x7f"),
    ],
)
def test_remaining_length_2_2_3(value, encoded):
    assert head(0x30, value) == b"\x30" + encoded


@pytest.mark.parametrize("bad", [268435456, -1])
def test_remaining_length_out_of_range(bad):
    with pytest.raises(MQTTError):
        head(0x30, bad)


def test_connect_minimal():
    pkt = mqtt_connect.connect_packet("c1", 60)
    assert pkt == b"\x10\x0e\x00\x04MQTT\x04\x02\x00\x3c\x00\x02c1"


def test_connect_with_will_user_password():
    pkt = mqtt_connect.connect_packet("wp-d-1", 30, "user", "pw", ("a/status", "offline", True))
    body = (
        b"\x00\x04MQTT\x04"
        + bytes([0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02])
        + b"\x00\x1e"
        + b"\x00\x06wp-d-1"
        + b"\x00\x08a/status"
        + b"\x00\x07offline"
        + b"\x00\x04user"
        + b"\x00\x02pw"
    )
    assert pkt == b"\x10" + bytes([len(body)]) + body


def test_connect_will_without_retain():
    pkt = mqtt_connect.connect_packet("c", 60, will=("t", b"x", False))
    assert pkt[9] == 0x08 | 0x04 | 0x02  # will QoS 1, will, clean session; no retain


def test_connect_refuses_password_without_user_and_bad_keepalive():
    with pytest.raises(MQTTError):
        mqtt_connect.connect_packet("c", 60, password="x")
    with pytest.raises(MQTTError):
        mqtt_connect.connect_packet("c", 65536)


def test_publish_qos0_retained():
    assert publish_packet("a/b", b"on", retain=True) == b"\x31\x07\x00\x03a/bon"


def test_publish_qos1_with_dup_and_packet_id():
    pkt = publish_packet("t", "x", qos=1, dup=True, pid=0x1234)
    assert pkt == b"\x3a\x06\x00\x01t\x12\x34x"
    assert publish_packet("t", "x", qos=1, pid=1)[0] == 0x32


def test_publish_long_payload_uses_two_length_bytes():
    pkt = publish_packet("t", b"y" * 200)
    assert pkt[:3] == b"\x30\xcb\x01" and len(pkt) == 3 + 203


@pytest.mark.parametrize(("qos", "pid"), [(1, 0), (1, 65536), (2, 1)])
def test_publish_refuses_bad_qos_or_packet_id(qos, pid):
    with pytest.raises(MQTTError):
        publish_packet("t", b"", qos=qos, pid=pid)


def test_parse_publish_roundtrip():
    pkt = publish_packet("werkplek/v1/hq/d-1/config", b'{"a":1}', 1, True, True, 7)
    body = pkt[2:]  # one length byte: 2 + 25 + 2 + 7 = 36 < 128
    assert pkt[1] == len(body)
    assert mqtt_connect.parse_publish(pkt[0] & 0x0F, body) == (
        "werkplek/v1/hq/d-1/config",
        b'{"a":1}',
        1,
        True,
        True,
        7,
    )


@pytest.mark.parametrize(
    ("flags", "body"),
    [
        (0, b"\x00"),
        (0, b"\x00\x05ab"),
        (2, b"\x00\x01t\x00"),
        (6, b"\x00\x01t"),
        (0, b"\x00\x02\xff\xfe"),
    ],
)
def test_parse_publish_rejects_malformed(flags, body):
    with pytest.raises(MQTTError):
        mqtt_connect.parse_publish(flags, body)
