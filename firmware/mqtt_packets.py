"""Pure MQTT 3.1.1 packet encoding and decoding (no I/O), tested against exact bytes.

Only what a connected presence node sends all the time: PUBLISH QoS 0/1,
PINGREQ, DISCONNECT, and the packet id of a PUBACK. CONNECT, CONNACK,
SUBSCRIBE and an incoming PUBLISH (a config message) are handled by
``mqtt_connect``, which is not kept on the heap.
"""

import struct

from wp_compat import const

# Packet types (the high nibble of the first byte) are ``const`` where they are used:
# CONNECT 1, CONNACK 2, PUBLISH 3, PUBACK 4, SUBSCRIBE 8, SUBACK 9, PINGREQ 12,
# PINGRESP 13, DISCONNECT 14.
_PUBLISH = const(3)

_MAX_REMAINING = const(268435455)
PINGREQ_PACKET = b"\xc0\x00"
DISCONNECT_PACKET = b"\xe0\x00"


class ProtocolError(ValueError):
    """A packet is malformed or cannot be encoded."""


def encode_varint(n):
    """Encode the MQTT 'remaining length' variable byte integer."""
    if n < 0 or n > _MAX_REMAINING:
        raise ProtocolError("length")
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_str(value):
    """Encode a UTF-8 string (or bytes) with its 2-byte big-endian length."""
    raw = value.encode() if isinstance(value, str) else bytes(value)
    if len(raw) > 0xFFFF:
        raise ProtocolError("str length")
    return struct.pack("!H", len(raw)) + raw


def packet(first_byte, body):
    """Frame a packet: first byte, remaining length, body."""
    return bytes((first_byte,)) + encode_varint(len(body)) + body


def publish_packet(topic, payload, qos=0, retain=False, dup=False, pid=0):
    """Build a PUBLISH packet; ``pid`` is required (1..65535) for QoS 1."""
    if qos not in (0, 1):
        raise ProtocolError("qos")
    if isinstance(payload, str):
        payload = payload.encode()
    first = _PUBLISH << 4 | qos << 1 | (1 if retain else 0) | (8 if dup and qos else 0)
    body = encode_str(topic)
    if qos:
        if not 0 < pid <= 0xFFFF:
            raise ProtocolError("pid")
        body += struct.pack("!H", pid)
    return packet(first, body + bytes(payload))


def parse_pid(body):
    """Return the packet id at the start of a PUBACK/SUBACK body."""
    if len(body) < 2:
        raise ProtocolError("pid")
    return struct.unpack("!H", body[:2])[0]
