"""Small asyncio MQTT 3.1.1 client for the presence node (runs on MicroPython and CPython).

Why our own: the public MicroPython clients block without timeouts, hang on a
missing PUBACK and leak sockets on reconnect. Here every network operation has
a timeout, the link is watched with PINGREQ/PINGRESP, a missing PUBACK drops the
link, and QoS 1 publishes are re-sent with DUP after the reconnect. ``run()``
reconnects forever with capped exponential backoff and jitter.

Connectivity: the ``up`` event is set while connected (after the birth message
went out); ``on_up`` / ``on_down`` / ``on_message`` are optional callbacks.
"""

import mqtt_packets as mp
from mqtt_link import MQTTError, MQTTLink
from wp_compat import asyncio, collect, const, rand_below, sleep_ms, unload, wait_for_ms

_TYPING = const(0)  # mypy only; the compiler drops the block (see node.py)
if _TYPING:
    from typing import Any


class MQTTClient(MQTTLink):
    """Asyncio MQTT 3.1.1 client: QoS 0/1 publish, subscribe, keepalive, reconnect.

    Args:
        client_id, host, port, username, password, keepalive_s: connection settings.
        will: ``(topic, payload, retain)`` Last Will, sent with QoS 1.
        birth: ``(topic, payload, retain)`` QoS 1 message sent first after every connect.
        opener: ``async (host, port) -> (reader, writer)``; default ``wp_stream.open_connection``
            on MicroPython, ``asyncio.open_connection`` on CPython.
        log: callable taking one str, or None.
    """

    # Set by ``mqtt_connect.init`` (annotations only: they cost no heap).
    client_id: str
    host: str
    port: int
    username: "str | None"
    password: "str | None"
    keepalive_s: int
    will: "tuple | None"
    birth: "tuple | None"
    connect_timeout_ms: int
    io_timeout_ms: int
    ack_timeout_ms: int
    backoff_min_ms: int
    backoff_max_ms: int
    on_up: "Any"
    on_down: "Any"
    on_message: "Any"
    up: asyncio.Event
    stats: dict
    _opener: "Any"
    _log: "Any"
    _reader: "Any"
    _writer: "Any"
    _ready: bool
    _gen: int
    _lost: asyncio.Event
    _closed: bool
    _pid: int
    _pending: dict
    _subs: dict
    _writing: bool
    _written: asyncio.Event

    def __init__(self, client_id, host, *args, **kwargs):
        # A node builds its client once: the constructor's code is in the cold
        # ``mqtt_connect`` (same arguments as documented above), not on the heap.
        import mqtt_connect

        try:
            mqtt_connect.init(self, client_id, host, *args, **kwargs)
        finally:
            unload("mqtt_connect")

    # ---- public API -------------------------------------------------------------

    @property
    def connected(self):
        """Return True while a CONNACK-ed link is open."""
        return self._ready and not self._lost.is_set()

    async def publish(self, topic, payload, qos=0, retain=False):
        """Publish; QoS 1 returns once the broker acknowledged it (waits across reconnects).

        A QoS 1 message whose PUBACK does not come within ``ack_timeout_ms`` drops
        the link; after the reconnect it is sent again with the DUP flag.

        Raises:
            MQTTError: QoS 0 while the link is down, or the client is closed.
        """
        if qos == 0:
            await self._write(mp.publish_packet(topic, payload, 0, retain))
            return
        pid = self._next_pid()
        event = asyncio.Event()  # set by the PUBACK (which also removes ``pid``) or a lost link
        self._pending[pid] = event
        dup = False
        try:
            while pid in self._pending:
                if self._closed:
                    raise MQTTError("closed")
                if not self.up.is_set():
                    try:  # wake now and then to notice close() while the link is down
                        await wait_for_ms(self.up.wait(), 1000)
                    except asyncio.TimeoutError:
                        continue
                gen = self._gen
                event.clear()
                try:
                    await self._write(mp.publish_packet(topic, payload, 1, retain, dup, pid))
                except MQTTError:
                    continue
                if dup:
                    self.stats["resent"] += 1
                dup = True
                try:
                    await wait_for_ms(event.wait(), self.ack_timeout_ms)
                except asyncio.TimeoutError:
                    self._lose(gen, "ack %d" % pid)
        finally:
            self._pending.pop(pid, None)

    async def subscribe(self, topic, qos=0):
        """Subscribe now (if connected) and again after every reconnect."""
        self._subs[topic] = qos
        if self.connected:
            import mqtt_connect

            try:
                await self._write(mqtt_connect.subscribe_packet(self._next_pid(), [(topic, qos)]))
            finally:
                unload("mqtt_connect")

    async def close(self):
        """Send DISCONNECT (with a timeout), close the socket and stop ``run()``."""
        self._closed = True
        if self.connected:
            try:
                await self._write(mp.DISCONNECT_PACKET)
            except MQTTError:
                pass
        self._lose(self._gen, "closed")
        await self._close_socket()
        for event in self._pending.values():
            event.set()

    def abort(self):
        """Stop at once without DISCONNECT (the broker will publish the Last Will)."""
        self._closed = True
        writer = self._writer
        self._lose(self._gen, "aborted")
        if writer is not None:
            try:
                writer.close()
            except Exception:  # noqa: BLE001, S110 - already broken is fine here
                pass

    async def run(self):
        """Keep the link up until ``close()``: connect, serve, back off, reconnect."""
        failures = 0
        while not self._closed:
            try:
                await self._cold("open_link")
            except asyncio.CancelledError:
                await self._close_socket()
                raise
            except Exception as exc:  # noqa: BLE001 - any failure means: back off and retry
                self.stats["connect_failures"] += 1
                self._say("MQTT E %r" % (exc,))
                await self._close_socket()
                failures += 1
                await sleep_ms(self._backoff_ms(failures))
                continue
            failures = 0
            reading = asyncio.create_task(self._read_loop(self._gen))
            try:
                await self._cold("online")
                await self._lost.wait()
            finally:
                self.up.clear()
                reading.cancel()
                await self._close_socket()
                for event in self._pending.values():
                    event.set()
                collect()
            self.stats["disconnects"] += 1
            self._call(self.on_down)
            if not self._closed:
                await sleep_ms(self._backoff_ms(1))

    # ---- connection management --------------------------------------------------

    async def _cold(self, name):
        """Await ``mqtt_connect.<name>(self)``: that code is loaded only for it (then dropped)."""
        import mqtt_connect

        try:
            await getattr(mqtt_connect, name)(self)
        finally:
            unload("mqtt_connect")

    async def _close_socket(self):
        writer, self._writer, self._reader = self._writer, None, None
        self._ready = False
        if writer is None:
            return
        try:
            writer.close()
            await wait_for_ms(writer.wait_closed(), self.io_timeout_ms)
        except Exception:  # noqa: BLE001, S110 - the socket is gone either way
            pass

    def _backoff_ms(self, failures):
        cap = min(self.backoff_max_ms, self.backoff_min_ms << min(failures - 1, 16))
        return cap // 2 + rand_below(cap // 2 + 1)
