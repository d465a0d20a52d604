"""The rare half of the MQTT 3.1.1 client: connecting, subscribing, receiving.

Each connection attempt of ``run()``: backoff, CONNECT/CONNACK, the
subscriptions and the birth message; ``subscribe``; and
the packets the read loop passes on: an incoming PUBLISH (for a node: its
retained config, after a connect and when it changes) is parsed, acknowledged
and handed to ``on_message``; a SUBACK is checked; anything else is counted.

Why a module of its own: a node connects once and then publishes for days, so
this code is needed only now and then. ``MQTTClient`` imports it when needed
and drops it again (``wp_compat.unload``); the steady state keeps only ``mqtt``.
Nothing here may be kept by the client (no function of this module stored on
it): that would keep the whole module on the heap.
"""

import os

from mqtt import MQTTError, head, publish_packet
from wp_compat import (
    IS_MICROPYTHON,
    asyncio,
    collect,
    const,
    sleep_ms,
    unload,
    wait_for_ms,
)

_CONNECT = const(1)
_PUBLISH = const(3)
_SUBSCRIBE = const(8)
_SUBACK = const(9)

#: Largest incoming packet we keep; bigger ones are read, discarded and counted.
_MAX_INCOMING = const(4096)

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


def connect_packet(client_id, keepalive_s, username=None, password=None, will=None):
    """Build a CONNECT packet (MQTT 3.1.1, clean session).

    ``will``: ``(topic, payload, retain)``, the Last Will, sent with QoS 1.
    """
    if not 0 <= keepalive_s <= 0xFFFF:
        raise MQTTError("keepalive out of range")
    if password is not None and username is None:
        raise MQTTError("a password needs a user name in MQTT 3.1.1")

    def encode(value):  # a UTF-8 string (or bytes) after its 2-byte big-endian length
        raw = value.encode() if isinstance(value, str) else bytes(value)
        if len(raw) > 0xFFFF:
            raise MQTTError("string over 65535 bytes")
        return len(raw).to_bytes(2, "big") + raw

    flags = 0x02  # clean session
    payload = encode(client_id)
    if will:
        flags |= 0x04 | 1 << 3 | (0x20 if will[2] else 0)  # will, QoS 1, retain
        payload += encode(will[0]) + encode(will[1])
    if username is not None:
        flags |= 0x80
        payload += encode(username)
    if password is not None:
        flags |= 0x40
        payload += encode(password)
    # Protocol name "MQTT", level 4 (3.1.1), the flags, the keepalive; then the payload.
    body = b"\x00\x04MQTT\x04" + bytes((flags,)) + keepalive_s.to_bytes(2, "big") + payload
    return head(_CONNECT << 4, len(body)) + body


def parse_publish(flags, data):
    """Decode an incoming PUBLISH; return ``(topic, payload, qos, retain, dup, pid)``.

    Raises:
        MQTTError: truncated packet, bad QoS or a topic that is not UTF-8.
    """
    qos = (flags >> 1) & 3
    if qos > 2:
        raise MQTTError("invalid QoS 3")
    if len(data) < 2:
        raise MQTTError("PUBLISH without topic length")
    end = 2 + int.from_bytes(data[:2], "big")
    if len(data) < end + (2 if qos else 0):
        raise MQTTError("truncated PUBLISH")
    try:
        topic = bytes(data[2:end]).decode()
    except UnicodeError as exc:
        raise MQTTError("topic is not UTF-8") from exc
    pid = 0
    if qos:
        pid = int.from_bytes(data[end : end + 2], "big")
        end += 2
    return topic, bytes(data[end:]), qos, bool(flags & 1), bool(flags & 8), pid


def backoff_ms(client, n):
    """Return the wait in ms before the next attempt after ``n`` failed ones (jittered)."""
    cap = min(client.backoff_max_ms, client.backoff_min_ms << min(n - 1, 16))
    # Jitter from the OS/hardware RNG, so a fleet that lost its broker does not return in step.
    return cap // 2 + int.from_bytes(os.urandom(2), "big") % (cap // 2 + 1)


async def connect(client, n):
    """One connection attempt of ``run()``: back off, open, CONNECT/CONNACK, subscribe, birth.

    ``n``: the failed attempts before this one (after a lost link: 1; at the start: 0,
    no backoff). Returns the reader for the read loop, or None when the attempt failed
    (counted and logged; ``run()`` closes the socket and tries again, backing off longer).
    """
    host, port, connect_ms = client.host, client.port, client.connect_timeout_ms
    collect()  # free the lost link's buffers first: vital on an ESP32's small heap
    if n:
        await sleep_ms(backoff_ms(client, n))
        if client.closed:
            return None
    _say = client.log
    try:
        tls = client.tls
        if client.opener is not None:
            opening = client.opener(host, port)
        elif IS_MICROPYTHON:  # our small stream instead of asyncio.stream (see mqtt.Stream)
            opening = open_connection(host, port, tls)
        elif tls:
            import mqtt_tls

            opening = asyncio.open_connection(
                host, port, ssl=mqtt_tls.context(tls[0]), server_hostname=tls[1]
            )
        else:
            opening = asyncio.open_connection(host, port)
        # With TLS the handshake runs in the CONNECT's write and the CONNACK's read below
        # (non-blocking): a certificate the CA did not sign, or that names another host,
        # fails there, and the attempt counts as failed like any other.
        reader, writer = await wait_for_ms(opening, connect_ms)
        client.stream = writer
        writer.write(
            connect_packet(
                client.client_id, client.keepalive_s, client.username, client.password, client.will
            )
        )
        await wait_for_ms(writer.drain(), client.io_timeout_ms)
        ack = await wait_for_ms(reader.readexactly(4), connect_ms)
        if ack[0] != 0x20 or ack[1] != 2:  # CONNACK, 2 bytes
            raise MQTTError("expected CONNACK, got %r" % (bytes(ack),))
        rc = ack[3]
        if rc:
            raise MQTTError("broker refused: %s" % (_REFUSALS[rc - 1] if rc <= 5 else rc))
        client.stats["connects"] += 1
        client.connected = True
        subs = client.subs
        for topic in list(subs):
            await subscribe(client, topic, subs[topic])
        birth = client.birth
        if birth:
            pid = client.next_pid()
            await client.write(publish_packet(birth[0], birth[1], 1, birth[2], False, pid))
        _say("MQTT up %s:%s" % (host, port))
        client.up.set()
        if client.on_up is not None:
            try:
                client.on_up()
            except Exception as exc:  # noqa: BLE001 - a faulty callback must not kill the link
                _say("MQTT cb %r" % (exc,))
        return reader
    except Exception as exc:  # noqa: BLE001 - any failure means: back off and retry
        client.stats["connect_failures"] += 1
        _say("MQTT E %r" % (exc,))
        return None


async def subscribe(client, topic, qos):
    """Remember ``topic`` for every reconnect; subscribe now if connected."""
    client.subs[topic] = qos
    if client.connected:  # SUBSCRIBE: packet id, then the one topic filter and its QoS
        pid = client.next_pid()
        raw = topic.encode()
        body = pid.to_bytes(2, "big") + len(raw).to_bytes(2, "big") + raw + bytes((qos,))
        await client.write(head(_SUBSCRIBE << 4 | 0x02, len(body)) + body)


async def read(client, stream, first, length):
    """Read and handle a packet the read loop passed on (its body is still in ``stream``).

    An incoming PUBLISH is acknowledged (QoS 1) and handed to ``on_message``; a
    SUBACK refusing the subscription is logged; anything else is counted.

    Raises:
        MQTTError: a malformed packet (the read loop then drops the link).
    """
    io_ms = client.io_timeout_ms
    _say = client.log
    if length > _MAX_INCOMING:  # read it in bounded chunks and drop it
        client.stats["rx_dropped"] += 1
        _say("MQTT big %d" % length)
        while length:
            length -= len(await wait_for_ms(stream.readexactly(min(length, 512)), io_ms))
        return
    body = b""
    if length:
        body = await wait_for_ms(stream.readexactly(length), io_ms)
    kind = first >> 4
    if kind == _PUBLISH:
        topic, payload, qos, retain, _dup, pid = parse_publish(first & 0x0F, body)
        if qos == 1:
            await client.write(b"\x40\x02" + pid.to_bytes(2, "big"))  # PUBACK
        if client.on_message is not None:
            try:
                client.on_message(topic, payload, retain)
            except Exception as exc:  # noqa: BLE001 - a faulty callback must not kill the link
                _say("MQTT cb %r" % (exc,))
    elif kind == _SUBACK:
        if body[2:3] == b"\x80":
            _say("MQTT suback")
    else:
        client.stats["rx_errors"] += 1
        _say("MQTT type%d" % kind)


if IS_MICROPYTHON:
    import errno
    import socket
    from asyncio import core  # type: ignore[attr-defined]  # the scheduler; not in the stubs

    def open_connection(host, port, tls=None):
        """Connect to ``host:port`` without blocking; return ``(stream, stream)`` (MicroPython).

        ``tls``: None, or ``(CA file, host name)``: the socket is wrapped in TLS
        that trusts only that CA and checks that the broker's certificate names the
        host. The handshake is left to the first write and read (the socket is
        non-blocking; MicroPython's TLS socket polls the right direction for it).
        The address lookup blocks (as in asyncio's own ``open_connection``): the node
        resolves its broker once per connection attempt.
        """
        import mqtt

        addr = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
        sock = socket.socket(addr[0], addr[1], addr[2])
        sock.setblocking(False)
        try:
            sock.connect(addr[-1])
        except OSError as exc:
            if exc.errno != errno.EINPROGRESS:  # the connect goes on in the background
                raise
        yield core._io_queue.queue_write(sock)  # writable: connected (or failed; the read says)
        if tls:  # a module of its own: a plain node never loads it nor interns its names
            import mqtt_tls

            try:
                sock = mqtt_tls.wrap(sock, tls)
            except Exception:
                sock.close()  # a missing or unreadable CA file: no socket left behind
                raise
            finally:
                unload("mqtt_tls", "ssl")  # the wrapped socket keeps what it needs
        stream = mqtt.Stream()
        stream.sock = sock
        stream.buf = b""
        stream.lock = False
        return stream, stream
