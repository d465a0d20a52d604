"""One MQTT 3.1.1 link's I/O for the node's client: framed reads, timed writes, keepalive.

Split from ``mqtt_client`` (session, publish/subscribe, reconnect policy) to keep
each module small. Every read and write has a timeout; any failure marks the
link lost (``_lose``) and the client reconnects. Nothing a broker sends can
raise out of here: malformed or unexpected packets end the link or are counted.
"""

# mypy: disable-error-code="attr-defined, has-type"
# (a mixin: its attributes are set by MQTTClient.__init__, which mypy checks there)
import mqtt_packets as mp
from wp_compat import asyncio, sleep_ms, wait_for_ms

#: Largest incoming packet we keep; bigger ones are read, discarded and counted.
MAX_INCOMING = 4096


class MQTTError(Exception):
    """The link is down, or the broker refused or broke the protocol."""


class MQTTLink:
    """I/O half of ``MQTTClient``: expects the attributes the client's ``__init__`` sets."""

    def _lose(self, gen, reason):
        if gen == self._gen and not self._lost.is_set():
            self._say("MQTT down: %s" % reason)
            self.up.clear()
            self._lost.set()

    async def _write(self, data):
        gen = self._gen
        if not self.connected:
            raise MQTTError("not connected")
        async with self._wlock:
            writer = self._writer
            if writer is None or gen != self._gen:
                raise MQTTError("not connected")
            try:
                writer.write(data)
                await wait_for_ms(writer.drain(), self.io_timeout_ms)
            except Exception as exc:
                self._lose(gen, "write failed: %r" % (exc,))
                raise MQTTError("write failed") from exc

    async def _read_loop(self, gen):
        reader = self._reader
        idle_ms = max(self.keepalive_s * 1500, self.io_timeout_ms)
        try:
            while True:
                head = await wait_for_ms(reader.readexactly(1), idle_ms)
                length = await self._read_length(reader)
                if length > MAX_INCOMING:
                    await self._discard(reader, length)
                    continue
                body = b""
                if length:
                    body = await wait_for_ms(reader.readexactly(length), self.io_timeout_ms)
                await self._dispatch(head[0], body)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - EOF, timeout, reset, garbage: all end the link
            self._lose(gen, "read failed: %r" % (exc,))

    async def _read_length(self, reader):
        raw = b""
        while True:
            raw += await wait_for_ms(reader.readexactly(1), self.io_timeout_ms)
            if not raw[-1] & 0x80 or len(raw) >= 4:
                return mp.decode_varint(raw)[0]

    async def _discard(self, reader, length):
        self.stats["rx_dropped"] += 1
        self._say("MQTT dropped an incoming packet of %d bytes" % length)
        while length:
            chunk = await wait_for_ms(reader.readexactly(min(length, 512)), self.io_timeout_ms)
            length -= len(chunk)

    async def _dispatch(self, first, body):
        kind = first >> 4
        if kind == mp.PUBACK:
            entry = self._pending.get(mp.parse_pid(body))
            if entry is not None:
                entry.acked = True
                entry.event.set()
        elif kind == mp.PINGRESP:
            self._pingresp.set()
        elif kind == mp.PUBLISH:
            topic, payload, qos, retain, _dup, pid = mp.parse_publish(first & 0x0F, body)
            if qos == 1:
                await self._write(mp.puback_packet(pid))
            self._call(self.on_message, topic, payload, retain)
        elif kind == mp.SUBACK:
            if body[2:3] == b"\x80":
                self._say("MQTT subscription refused")
        else:
            self.stats["rx_errors"] += 1
            self._say("MQTT ignored unexpected packet type %d" % kind)

    async def _ping_loop(self, gen):
        period = max(self.keepalive_s * 500, 100)
        while True:
            await sleep_ms(period)
            self._pingresp.clear()
            try:
                await self._write(mp.PINGREQ_PACKET)
                await wait_for_ms(self._pingresp.wait(), self.io_timeout_ms)
            except asyncio.TimeoutError:
                self._lose(gen, "no PINGRESP")
                return
            except MQTTError:
                return

    def _next_pid(self):
        self._pid = self._pid % 0xFFFF + 1
        return self._pid

    def _call(self, callback, *args):
        if callback is None:
            return
        try:
            callback(*args)
        except Exception as exc:  # noqa: BLE001 - a faulty callback must not kill the link
            self._say("MQTT callback failed: %r" % (exc,))

    def _say(self, text):
        if self._log is not None:
            self._log(text)
