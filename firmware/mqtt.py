"""Small asyncio MQTT 3.1.1 client for the presence node (runs on MicroPython and CPython).

Why our own: the public MicroPython clients block without timeouts, hang on a
missing PUBACK and leak sockets on reconnect. Here every network operation has
a timeout, the link is watched with PINGREQ/PINGRESP, a missing PUBACK drops the
link, and QoS 1 publishes are re-sent with DUP after the reconnect. ``run()``
reconnects forever with capped exponential backoff and jitter. Nothing a broker
sends can raise out of the read loop: a malformed packet ends the link, an
unexpected one is counted.

Why two modules (heap, see docs/firmware.md, "Memory"): this one holds the
client (its constructor included) and what a connected node runs every few
seconds (PUBLISH, PUBACK, keepalive, writes, a lost link). Each connection
attempt (backoff, CONNECT/CONNACK, subscriptions, the birth message), an
incoming PUBLISH, a SUBACK and anything unexpected are in ``mqtt_connect``,
imported for that and dropped again (``_cold``).

For memory, some internals have names the interpreter already knows (the
attributes ``waiting``, ``stream``, ``lock``, the method ``write``, the cold
functions ``connect`` and ``read``): a new name costs heap for good. The settings
are attributes named like the constructor's arguments, so they add no names.
"""

from wp_compat import IS_MICROPYTHON, Flag, asyncio, const, unload, wait_for_ms

_TYPING = const(0)  # mypy only; the compiler drops the block (see node.py)
if _TYPING:
    from typing import Any

_PUBLISH = const(3)  # packet type: the high nibble of the first byte
_PUBACK_HEAD = const(0x40)  # PUBACK: type 4, no flags
_PINGRESP_HEAD = const(0xD0)  # PINGRESP: type 13, no flags
_PINGREQ = const(b"\xc0\x00")
_DISCONNECT = const(b"\xe0\x00")
_MAX_REMAINING = const(268435455)


class MQTTError(Exception):
    """The link is down, the broker refused or broke the protocol, or a packet is invalid."""


def head(first, n):
    """Return a packet's fixed header: the ``first`` byte and the remaining length ``n``.

    The length is MQTT's variable byte integer: 7 bits a byte, low bits first, the
    high bit set while more bytes follow.
    """
    if not 0 <= n <= _MAX_REMAINING:
        raise MQTTError("length")
    out = bytearray((first,))
    while True:
        out.append(n & 0x7F | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def publish_packet(topic, payload, qos=0, retain=False, dup=False, pid=0):
    """Build a PUBLISH packet; ``pid`` is required (1..65535) for QoS 1.

    ``topic`` is a str (the node's topics are built from checked ids, far below
    MQTT's 65535 bytes); ``payload`` str or bytes.
    """
    if qos not in (0, 1):
        raise MQTTError("qos")
    if isinstance(payload, str):
        payload = payload.encode()  # on MicroPython no copy: bytes share a str's data
    topic = topic.encode()
    body = len(topic).to_bytes(2, "big") + topic
    if qos:
        if not 0 < pid <= 0xFFFF:
            raise MQTTError("pid")
        body += pid.to_bytes(2, "big")
    first = _PUBLISH << 4 | qos << 1 | (1 if retain else 0) | (8 if dup and qos else 0)
    # One join, so the payload is copied once (into the packet), not into a body first.
    return b"".join((head(first, len(body) + len(payload)), body, payload))


class MQTTClient:
    """Asyncio MQTT 3.1.1 client: QoS 0/1 publish, subscribe, keepalive, reconnect.

    Args (each kept as the attribute of the same name, read by ``mqtt_connect``):
        client_id, host, port, username, password, keepalive_s: connection settings.
        will: ``(topic, payload, retain)`` Last Will, sent with QoS 1.
        birth: ``(topic, payload, retain)`` QoS 1 message sent first after every connect.
        connect_timeout_ms, io_timeout_ms, ack_timeout_ms, backoff_min_ms, backoff_max_ms.
        opener: ``async (host, port) -> (reader, writer)``; default: our ``Stream`` on
            MicroPython, ``asyncio.open_connection`` on CPython.
        log: callable taking one str, or None.
        tls: None (plain TCP) or ``(ca_file, host name)``: TLS trusting only that CA,
            the broker's certificate must name the host (``mqtt_tls``).

    Attributes for the node: ``up`` (a ``Flag``, set while connected and the birth
    message went out), ``connected``, ``stats`` (``connects``, ``connect_failures``,
    ``resent``, ``rx_dropped``, ``rx_errors``), and the callbacks ``on_up()`` and
    ``on_message(topic, payload, retain)`` (None or set by the node).
    """

    stream: "Any"  # for mypy (an annotation costs no heap): None while the link is down

    def __init__(
        self,
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
        tls=None,
    ):
        # The settings, an attribute each under its argument's name (names the node has
        # anyway). A tuple would take about 130 bytes less heap, but be read by position.
        self.client_id = client_id
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.keepalive_s = keepalive_s
        self.will = will
        self.birth = birth
        self.connect_timeout_ms = connect_timeout_ms
        self.io_timeout_ms = io_timeout_ms
        self.ack_timeout_ms = ack_timeout_ms
        self.backoff_min_ms = backoff_min_ms
        self.backoff_max_ms = backoff_max_ms
        self.opener = opener
        # Without a log: ``id``, a built-in that takes the text and ignores it.
        self.log = log or id
        self.tls = tls
        # State.
        self.subs = {}  # topic filter -> QoS, subscribed again after every connect
        self.on_up = None
        self.on_message = None
        self.up = Flag()
        self.stats = {
            "connects": 0,
            "connect_failures": 0,
            "resent": 0,
            "rx_dropped": 0,
            "rx_errors": 0,
        }
        self.stream = None  # the link's writer (None while down); tells links apart (``_lose``)
        self.connected = False  # a CONNACK-ed link is open
        self.closed = False  # close() or abort() was called
        self._pid = 0  # the last packet id
        self._lost = Flag()  # the current link ended
        self.waiting = {}  # packet id -> Flag of a QoS 1 publish waiting for its PUBACK

    def next_pid(self):
        """Return the next packet id (1..65535, then 1 again)."""
        self._pid = pid = self._pid % 0xFFFF + 1
        return pid

    async def publish(self, topic, payload, qos=0, retain=False):
        """Publish; QoS 1 returns once the broker acknowledged it (waits across reconnects).

        A QoS 1 message whose PUBACK does not come within ``ack_timeout_ms`` drops
        the link; after the reconnect it is sent again with the DUP flag.

        Raises:
            MQTTError: QoS 0 while the link is down, or the client is closed.
        """
        if not qos:
            await self.write(publish_packet(topic, payload, 0, retain))
            return
        pid = self.next_pid()
        waiting = self.waiting
        event = Flag()  # set by the PUBACK (which also removes ``pid``) or a lost link
        waiting[pid] = event
        dup = False
        try:
            while pid in waiting:
                if self.closed:
                    raise MQTTError("closed")
                if not self.up.is_set():
                    try:  # wake now and then to notice close() while the link is down
                        await wait_for_ms(self.up.wait(), 1000)
                    except asyncio.TimeoutError:
                        continue
                link = self.stream
                event.clear()
                try:
                    await self.write(publish_packet(topic, payload, 1, retain, dup, pid))
                except MQTTError:
                    continue
                if dup:
                    self.stats["resent"] += 1
                dup = True
                try:
                    await wait_for_ms(event.wait(), self.ack_timeout_ms)
                except asyncio.TimeoutError:
                    self._lose(link, "ack %d" % pid)
        finally:
            waiting.pop(pid, None)

    async def subscribe(self, topic, qos=0):
        """Subscribe now (if connected) and again after every reconnect."""
        await _cold(self, "subscribe", topic, qos)

    async def close(self):
        """Send DISCONNECT (with a timeout), close the socket and stop ``run()``."""
        self.closed = True
        if self.connected:
            try:
                await self.write(_DISCONNECT)
            except MQTTError:
                pass
        self._lose(self.stream, "closed")

    def abort(self):
        """Stop at once without DISCONNECT (the broker will publish the Last Will)."""
        self.closed = True
        self._lose(self.stream, "aborted")

    async def run(self):
        """Keep the link up until ``close()``: connect, serve, back off, reconnect."""
        failures = 0
        while not self.closed:
            reading = None
            self._lost.clear()
            try:
                stream = await _cold(self, "connect", failures)
                if stream is None:  # the attempt failed (counted and logged): back off longer
                    failures += 1
                    continue
                failures = 1  # after a lost link: the shortest backoff, then reconnect
                reading = asyncio.create_task(self._read_loop(stream))
                await self._lost.wait()
            finally:
                if reading is not None:
                    reading.cancel()
                self._lose(self.stream, "aborted")  # closes the socket (also of a failed attempt)
                for event in self.waiting.values():  # waiting publishes: send again
                    event.set()

    # ---- the link -----------------------------------------------------------------

    def _lose(self, stream, reason):
        """End the link of ``stream``: close it; if it was up, log ``reason``, wake ``run()``.

        A late call about an older link (another ``stream``) changes nothing.
        """
        if stream is not self.stream:
            return
        self.stream = None
        if stream is not None:
            try:
                stream.close()
            except Exception:  # noqa: BLE001, S110 - the socket is gone either way
                pass
        if self.connected:
            self.connected = False
            self.log("MQTT down " + reason)
            self.up.clear()
            self._lost.set()

    async def write(self, data):
        """Send one packet (bytes) on the link, one write at a time; raises ``MQTTError``."""
        stream = self.stream
        if not self.connected:
            raise MQTTError("down")
        # No lock: ``write`` queues the whole packet at once (packets never mix), and
        # tasks may drain at the same time (CPython's StreamWriter allows it; our
        # ``Stream`` lets the drain under way send the data of the others as well).
        try:
            # Our MicroPython ``Stream.write`` returns True when the socket took it all at
            # once (the usual case): then no drain, no timeout task, nothing more on the heap.
            if stream.write(data) is not True:
                await wait_for_ms(stream.drain(), self.io_timeout_ms)
        except Exception as exc:
            reason = "wr %r" % (exc,)
            self._lose(stream, reason)
            raise MQTTError(reason) from exc

    async def _read_loop(self, stream):
        # Also the keepalive (a task of its own would cost heap): after half the
        # keepalive without a packet from the broker it sends PINGREQ; when another
        # half passes without any packet (PINGRESP or other), the link is dead.
        link = self.stream  # the writer (CPython: not the reader) names the link for _lose
        io_ms = self.io_timeout_ms
        period = max(self.keepalive_s * 500, 100)
        pinged = False
        try:
            while True:
                try:
                    first = (await wait_for_ms(stream.readexactly(1), period))[0]
                except asyncio.TimeoutError:
                    if pinged:
                        self._lose(link, "ping")
                        return
                    pinged = True
                    await self.write(_PINGREQ)
                    continue
                pinged = False
                # Remaining length: a variable byte integer of at most 4 bytes.
                length = shift = 0
                while True:
                    byte = (await wait_for_ms(stream.readexactly(1), io_ms))[0]
                    length |= (byte & 0x7F) << shift
                    if not byte & 0x80:
                        break
                    shift += 7
                    if shift > 21:
                        raise MQTTError("len>4")
                if first == _PUBACK_HEAD and length == 2:  # the packet a node gets all the time
                    pid = await wait_for_ms(stream.readexactly(2), io_ms)
                    event = self.waiting.pop(int.from_bytes(pid, "big"), None)
                    if event is not None:
                        event.set()
                elif first != _PINGRESP_HEAD or length:
                    # An incoming PUBLISH (a config message), a SUBACK, anything unexpected:
                    # rare, so handled (body read or skipped) by the cold module.
                    await _cold(self, "read", stream, first, length)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - EOF, timeout, reset, garbage: all end the link
            self._lose(link, "rd %r" % (exc,))


async def _cold(client, name, *args):
    """Return ``await mqtt_connect.<name>(client, *args)``: that code is loaded only for it.

    A function of the module rather than a method: one entry fewer keeps the class's
    dict of ``MQTTClient`` a size step smaller (96 B of heap).
    """
    import mqtt_connect

    try:
        return await getattr(mqtt_connect, name)(client, *args)
    finally:
        unload("mqtt_connect")


if IS_MICROPYTHON:
    from asyncio import core  # type: ignore[attr-defined]  # the scheduler; not in the stubs

    class Stream:
        """The link's TCP stream on MicroPython: reader and writer in one, like asyncio's own.

        Why not ``asyncio.open_connection``: its module (``asyncio.stream``: servers,
        line reads, SSL) costs about 1.8 KB of heap on the unix port, and the client
        needs four operations. A task that must wait for the non-blocking socket
        yields it to the scheduler's poll-based I/O queue (``core._io_queue``): the
        bare ``yield`` hands control to the scheduler until the socket is ready, so
        the methods with a ``yield`` are coroutines, awaited like ``async def`` ones.
        Timeouts stay with the caller (``wait_for_ms``); cancelling a waiting task
        takes it off the queue. ``mqtt_connect.open_connection`` sets ``sock`` (the
        connected socket), ``buf`` (written, not yet drained) and ``lock`` (a drain
        is under way): no ``__init__``, one function less on the heap.
        """

        sock: "Any"
        buf: bytes
        lock: bool

        def readexactly(self, n):
            """Return exactly ``n`` bytes; raises ``EOFError`` when the peer closes first."""
            data = b""
            while n:
                yield core._io_queue.queue_read(self.sock)
                got = self.sock.read(n)
                if got is None:  # woken without data: wait again
                    continue
                if not got:
                    raise EOFError
                data += got
                n -= len(got)
            return data

        def write(self, data):
            """Send ``data`` now if the socket takes it all; else queue it for ``drain``.

            Returns True when all of it was sent. Only when nothing waits already: the
            order of the bytes on the link must stay that of the calls.
            """
            if not self.buf and not self.lock:
                try:
                    sent = self.sock.write(data)  # non-blocking: None when it would block
                except OSError:
                    sent = None  # the drain meets the error again and reports it
                if sent == len(data):
                    return True
                if sent:
                    data = data[sent:]
            self.buf += data

        def drain(self):
            """Send what ``write`` queued, waiting while the socket is full.

            MicroPython lets only one task wait to write on a socket: while a drain
            is under way (``lock``), another one returns at once, and the first one
            sends its data as well.
            """
            if self.lock:
                return
            self.lock = True
            try:
                yield core._io_queue.queue_write(self.sock)  # always yield once, as asyncio does
                while self.buf:
                    sent = self.sock.write(self.buf)
                    if sent:
                        self.buf = self.buf[sent:]
                    if self.buf:
                        yield core._io_queue.queue_write(self.sock)
            finally:
                self.lock = False

        def close(self):
            """Close the socket."""
            self.sock.close()
