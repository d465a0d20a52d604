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
from wp_compat import asyncio, collect, rand_below, sleep_ms, unload, wait_for_ms


class MQTTClient(MQTTLink):
    """Asyncio MQTT 3.1.1 client: QoS 0/1 publish, subscribe, keepalive, reconnect.

    Args:
        client_id, host, port, username, password, keepalive_s: connection settings.
        will: ``(topic, payload, retain)`` Last Will, sent with QoS 1.
        birth: ``(topic, payload, retain)`` QoS 1 message sent first after every connect.
        opener: ``async (host, port) -> (reader, writer)``; default ``asyncio.open_connection``.
        log: callable taking one str, or None.
    """

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
    ):
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
        self._opener = opener or asyncio.open_connection
        self._log = log
        self.on_up = None
        self.on_down = None
        self.on_message = None
        self.up = asyncio.Event()
        self.stats = {
            "connects": 0,
            "connect_failures": 0,
            "disconnects": 0,
            "resent": 0,
            "rx_dropped": 0,
            "rx_errors": 0,
        }
        self._reader = None
        self._writer = None
        self._ready = False
        self._gen = 0
        self._lost = asyncio.Event()
        self._closed = False
        self._pid = 0
        self._pending = {}
        self._subs = {}
        self._pingresp = asyncio.Event()
        self._writing = False  # a write is under way (see MQTTLink._write)
        self._written = asyncio.Event()

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
                    raise MQTTError("client closed")
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
                    self._lose(gen, "no PUBACK for packet %d" % pid)
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
                await self._connect()
            except asyncio.CancelledError:
                await self._close_socket()
                raise
            except Exception as exc:  # noqa: BLE001 - any failure means: back off and retry
                self.stats["connect_failures"] += 1
                self._say("MQTT connect failed: %r" % (exc,))
                await self._close_socket()
                failures += 1
                await sleep_ms(self._backoff_ms(failures))
                continue
            failures = 0
            tasks = (
                asyncio.create_task(self._read_loop(self._gen)),
                asyncio.create_task(self._ping_loop(self._gen)),
            )
            try:
                await self._online()
                await self._lost.wait()
            finally:
                self.up.clear()
                for task in tasks:
                    task.cancel()
                await self._close_socket()
                for event in self._pending.values():
                    event.set()
                collect()
            self.stats["disconnects"] += 1
            self._call(self.on_down)
            if not self._closed:
                await sleep_ms(self._backoff_ms(1))

    # ---- connection management --------------------------------------------------

    async def _connect(self):
        import mqtt_connect  # only while connecting: dropped again (wp_compat.unload)

        try:
            await mqtt_connect.open_link(self)
        finally:
            unload("mqtt_connect")

    async def _online(self):
        import mqtt_connect

        try:
            await mqtt_connect.online(self)
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
