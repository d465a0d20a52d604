"""Pure MQTT 3.1.1 packet encoding and decoding (no I/O), tested against exact bytes.

Only what a presence node needs: CONNECT (+ Last Will, credentials), CONNACK,
PUBLISH QoS 0/1, PUBACK, SUBSCRIBE/SUBACK, PINGREQ/PINGRESP, DISCONNECT.
"""

import struct

CONNECT = 1
CONNACK = 2
PUBLISH = 3
PUBACK = 4
SUBSCRIBE = 8
SUBACK = 9
PINGREQ = 12
PINGRESP = 13
DISCONNECT = 14

MAX_REMAINING = 268435455
PINGREQ_PACKET = b"\xc0\x00"
DISCONNECT_PACKET = b"\xe0\x00"

CONNACK_REASONS = {
    1: "unacceptable protocol version",
    2: "identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
}


class ProtocolError(ValueError):
    """A packet is malformed or cannot be encoded."""


def encode_varint(n):
    """Encode the MQTT 'remaining length' variable byte integer."""
    if n < 0 or n > MAX_REMAINING:
        raise ProtocolError("remaining length out of range")
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data):
    """Decode a variable byte integer; return ``(value, bytes_used)``.

    Raises:
        ProtocolError: more than 4 bytes, or the data ends inside the number.
    """
    value = 0
    for i in range(4):
        if i >= len(data):
            raise ProtocolError("truncated remaining length")
        byte = data[i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, i + 1
    raise ProtocolError("remaining length longer than 4 bytes")


def encode_str(value):
    """Encode a UTF-8 string (or bytes) with its 2-byte big-endian length."""
    raw = value.encode() if isinstance(value, str) else bytes(value)
    if len(raw) > 0xFFFF:
        raise ProtocolError("string longer than 65535 bytes")
    return struct.pack("!H", len(raw)) + raw


def _packet(first_byte, body):
    return bytes((first_byte,)) + encode_varint(len(body)) + body


def connect_packet(
    client_id,
    keepalive_s,
    clean_session=True,
    username=None,
    password=None,
    will_topic=None,
    will_payload=b"",
    will_qos=0,
    will_retain=False,
):
    """Build a CONNECT packet (protocol level 4 = MQTT 3.1.1)."""
    if not 0 <= keepalive_s <= 0xFFFF:
        raise ProtocolError("keepalive out of range")
    if password is not None and username is None:
        raise ProtocolError("a password needs a user name in MQTT 3.1.1")
    flags = 0x02 if clean_session else 0
    payload = encode_str(client_id)
    if will_topic is not None:
        flags |= 0x04 | (will_qos & 3) << 3 | (0x20 if will_retain else 0)
        payload += encode_str(will_topic) + encode_str(will_payload)
    if username is not None:
        flags |= 0x80
        payload += encode_str(username)
    if password is not None:
        flags |= 0x40
        payload += encode_str(password)
    header = encode_str("MQTT") + bytes((4, flags)) + struct.pack("!H", keepalive_s)
    return _packet(CONNECT << 4, header + payload)


def publish_packet(topic, payload, qos=0, retain=False, dup=False, pid=0):
    """Build a PUBLISH packet; ``pid`` is required (1..65535) for QoS 1."""
    if qos not in (0, 1):
        raise ProtocolError("only QoS 0 and 1 are supported")
    if isinstance(payload, str):
        payload = payload.encode()
    first = PUBLISH << 4 | qos << 1 | (1 if retain else 0) | (8 if dup and qos else 0)
    body = encode_str(topic)
    if qos:
        if not 0 < pid <= 0xFFFF:
            raise ProtocolError("packet id out of range")
        body += struct.pack("!H", pid)
    return _packet(first, body + bytes(payload))


def puback_packet(pid):
    """Build a PUBACK for an incoming QoS 1 PUBLISH."""
    return b"\x40\x02" + struct.pack("!H", pid)


def subscribe_packet(pid, topics):
    """Build a SUBSCRIBE for a list of ``(topic_filter, qos)`` pairs."""
    body = struct.pack("!H", pid)
    for topic, qos in topics:
        body += encode_str(topic) + bytes((qos,))
    return _packet(SUBSCRIBE << 4 | 0x02, body)


def parse_connack(body):
    """Return ``(session_present, return_code)`` of a CONNACK body."""
    if len(body) != 2:
        raise ProtocolError("CONNACK body must be 2 bytes")
    return bool(body[0] & 1), body[1]


def parse_pid(body):
    """Return the packet id at the start of a PUBACK/SUBACK body."""
    if len(body) < 2:
        raise ProtocolError("packet id missing")
    return struct.unpack("!H", body[:2])[0]


def parse_publish(flags, body):
    """Decode an incoming PUBLISH; return ``(topic, payload, qos, retain, dup, pid)``.

    Raises:
        ProtocolError: truncated packet, bad QoS or a topic that is not UTF-8.
    """
    qos = (flags >> 1) & 3
    if qos > 2:
        raise ProtocolError("invalid QoS 3")
    if len(body) < 2:
        raise ProtocolError("PUBLISH without topic length")
    tlen = struct.unpack("!H", body[:2])[0]
    end = 2 + tlen
    if len(body) < end + (2 if qos else 0):
        raise ProtocolError("truncated PUBLISH")
    try:
        topic = bytes(body[2:end]).decode()
    except UnicodeError as exc:
        raise ProtocolError("topic is not UTF-8") from exc
    pid = 0
    if qos:
        pid = struct.unpack("!H", body[end : end + 2])[0]
        end += 2
    return topic, bytes(body[end:]), qos, bool(flags & 1), bool(flags & 8), pid
