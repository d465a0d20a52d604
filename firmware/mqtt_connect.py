"""The rare half of the MQTT 3.1.1 client: opening a link and receiving a message.

Opening: CONNECT, CONNACK, the subscriptions and the birth message. Receiving:
an incoming PUBLISH (for a node: its retained config, after a connect and when
it changes) is parsed, acknowledged and handed to ``on_message``.

Why a module of its own: a node connects once and then publishes for days, so
this code is needed only now and then. ``MQTTClient`` imports it when needed
and drops it again (``wp_compat.unload``); the steady state keeps only
``mqtt_packets``, ``mqtt_link`` and ``mqtt_client``.
"""

import struct

import mqtt_packets as mp
from mqtt_link import MQTTError
from wp_compat import IS_MICROPYTHON, asyncio, const, wait_for_ms

_CONNECT = const(1)
_CONNACK = const(2)
_SUBSCRIBE = const(8)

#: CONNACK return codes 1..5 (a ``const`` tuple: no name interned on the heap).
_REFUSALS = const(
    (
        "unacceptable protocol version",
        "identifier rejected",
        "server unavailable",
        "bad user name or password",
        "not authorized",
    )
)


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
        raise mp.ProtocolError("keepalive out of range")
    if password is not None and username is None:
        raise mp.ProtocolError("a password needs a user name in MQTT 3.1.1")
    flags = 0x02 if clean_session else 0
    payload = mp.encode_str(client_id)
    if will_topic is not None:
        flags |= 0x04 | (will_qos & 3) << 3 | (0x20 if will_retain else 0)
        payload += mp.encode_str(will_topic) + mp.encode_str(will_payload)
    if username is not None:
        flags |= 0x80
        payload += mp.encode_str(username)
    if password is not None:
        flags |= 0x40
        payload += mp.encode_str(password)
    header = mp.encode_str("MQTT") + bytes((4, flags)) + struct.pack("!H", keepalive_s)
    return mp.packet(_CONNECT << 4, header + payload)


def subscribe_packet(pid, topics):
    """Build a SUBSCRIBE for a list of ``(topic_filter, qos)`` pairs."""
    body = struct.pack("!H", pid)
    for topic, qos in topics:
        body += mp.encode_str(topic) + bytes((qos,))
    return mp.packet(_SUBSCRIBE << 4 | 0x02, body)


def parse_connack(body):
    """Return ``(session_present, return_code)`` of a CONNACK body."""
    if len(body) != 2:
        raise mp.ProtocolError("CONNACK body must be 2 bytes")
    return bool(body[0] & 1), body[1]


def decode_varint(data):
    """Decode a variable byte integer; return ``(value, bytes_used)``.

    Raises:
        ProtocolError: more than 4 bytes, or the data ends inside the number.
    """
    value = 0
    for i in range(4):
        if i >= len(data):
            raise mp.ProtocolError("truncated remaining length")
        byte = data[i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, i + 1
    raise mp.ProtocolError("remaining length longer than 4 bytes")


def puback_packet(pid):
    """Build a PUBACK for an incoming QoS 1 PUBLISH."""
    return b"\x40\x02" + struct.pack("!H", pid)


def parse_publish(flags, body):
    """Decode an incoming PUBLISH; return ``(topic, payload, qos, retain, dup, pid)``.

    Raises:
        ProtocolError: truncated packet, bad QoS or a topic that is not UTF-8.
    """
    qos = (flags >> 1) & 3
    if qos > 2:
        raise mp.ProtocolError("invalid QoS 3")
    if len(body) < 2:
        raise mp.ProtocolError("PUBLISH without topic length")
    tlen = struct.unpack("!H", body[:2])[0]
    end = 2 + tlen
    if len(body) < end + (2 if qos else 0):
        raise mp.ProtocolError("truncated PUBLISH")
    try:
        topic = bytes(body[2:end]).decode()
    except UnicodeError as exc:
        raise mp.ProtocolError("topic is not UTF-8") from exc
    pid = 0
    if qos:
        pid = struct.unpack("!H", body[end : end + 2])[0]
        end += 2
    return topic, bytes(body[end:]), qos, bool(flags & 1), bool(flags & 8), pid


def init(
    client,
    client_id,
    host,
    port=1883,
    username=None,
    password=None,
    keepalive_s=60,
    will=None,
    birth=None,
    connect_timeout_ms=5000,
    io_timeout_ms=5000,
    ack_timeout_ms=10000,
    backoff_min_ms=500,
    backoff_max_ms=30000,
    opener=None,
    log=None,
):
    """Set up a new ``MQTTClient`` (its ``__init__`` arguments); see that class."""
    client.client_id = client_id
    client.host = host
    client.port = port
    client.username = username
    client.password = password
    client.keepalive_s = keepalive_s
    client.will = will
    client.birth = birth
    client.connect_timeout_ms = connect_timeout_ms
    client.io_timeout_ms = io_timeout_ms
    client.ack_timeout_ms = ack_timeout_ms
    client.backoff_min_ms = backoff_min_ms
    client.backoff_max_ms = backoff_max_ms
    if opener is None:
        if IS_MICROPYTHON:  # our small stream instead of asyncio.stream (see wp_stream)
            import wp_stream

            opener = wp_stream.open_connection
        else:
            opener = asyncio.open_connection
    client._opener = opener
    client._log = log
    client.on_up = None
    client.on_down = None
    client.on_message = None
    client.up = asyncio.Event()
    client.stats = {
        "connects": 0,
        "connect_failures": 0,
        "disconnects": 0,
        "resent": 0,
        "rx_dropped": 0,
        "rx_errors": 0,
    }
    client._reader = None
    client._writer = None
    client._ready = False
    client._gen = 0
    client._lost = asyncio.Event()
    client._closed = False
    client._pid = 0
    client._pending = {}
    client._subs = {}
    client._writing = False  # a write is under way (see MQTTLink._write)
    client._written = asyncio.Event()


async def receive(client, first, body):
    """Handle one incoming PUBLISH on ``client``: PUBACK it (QoS 1), then call ``on_message``.

    Raises:
        ProtocolError: a malformed packet (the read loop then drops the link).
    """
    topic, payload, qos, retain, _dup, pid = parse_publish(first & 0x0F, body)
    if qos == 1:
        await client._write(puback_packet(pid))
    client._call(client.on_message, topic, payload, retain)


async def open_link(client):
    """Open the socket and exchange CONNECT/CONNACK for ``client`` (an ``MQTTClient``).

    Raises:
        MQTTError: the broker refused or did not answer with a CONNACK.
        OSError, asyncio.TimeoutError: no connection within the timeouts.
    """
    client._gen += 1
    client._lost = asyncio.Event()  # a fresh one: the new link is not lost
    reader, writer = await wait_for_ms(
        client._opener(client.host, client.port), client.connect_timeout_ms
    )
    client._reader, client._writer = reader, writer
    will = client.will or (None, b"", False)
    packet = connect_packet(
        client.client_id,
        client.keepalive_s,
        True,
        client.username,
        client.password,
        will[0],
        will[1],
        1,
        will[2],
    )
    writer.write(packet)
    await wait_for_ms(writer.drain(), client.io_timeout_ms)
    head = await wait_for_ms(reader.readexactly(4), client.connect_timeout_ms)
    if head[0] != _CONNACK << 4 or head[1] != 2:
        raise MQTTError("expected CONNACK, got %r" % (bytes(head),))
    rc = parse_connack(head[2:])[1]
    if rc:
        raise MQTTError("broker refused: %s" % (_REFUSALS[rc - 1] if rc <= 5 else rc))
    client.stats["connects"] += 1
    client._ready = True


async def online(client):
    """Subscribe again and send the birth message on a new link, then mark ``client`` up."""
    for topic, qos in client._subs.items():
        await client._write(subscribe_packet(client._next_pid(), [(topic, qos)]))
    if client.birth:
        topic, payload, retain = client.birth
        pid = client._next_pid()
        await client._write(mp.publish_packet(topic, payload, 1, retain, False, pid))
    client._say("MQTT up %s:%s" % (client.host, client.port))
    client.up.set()
    client._call(client.on_up)
