"""One MQTT 3.1.1 link's I/O for the node's client: framed reads, timed writes, keepalive.

Split from ``mqtt_client`` (session, publish/subscribe, reconnect policy) to keep
each module small. Every read and write has a timeout; any failure marks the
link lost (``_lose``) and the client reconnects. Nothing a broker sends can
raise out of here: malformed or unexpected packets end the link or are counted.
"""

# mypy: disable-error-code="attr-defined, has-type"
# (a mixin: its attributes are set by MQTTClient.__init__, which mypy checks there)
import mqtt_packets as mp
from wp_compat import asyncio, const, unload, wait_for_ms

#: Largest incoming packet we keep; bigger ones are read, discarded and counted.
_MAX_INCOMING = const(4096)
_PUBLISH = const(3)
_PUBACK = const(4)
_SUBACK = const(9)
_PINGRESP = const(13)


class MQTTError(Exception):
    """The link is down, or the broker refused or broke the protocol."""


class MQTTLink:
    """I/O half of ``MQTTClient``: expects the attributes the client's ``__init__`` sets."""

    def _lose(self, gen, reason):
        if gen == self._gen and not self._lost.is_set():
            self._say("MQTT down " + reason)
            self.up.clear()
            self._lost.set()

    async def _write(self, data):
        gen = self._gen
        if not self.connected:
            raise MQTTError("down")
        # One write and drain at a time (MicroPython lets one task wait on a socket):
        # a flag and an Event, which spare the heap of asyncio's lock module.
        while self._writing:
            await self._written.wait()
        self._writing = True
        self._written.clear()
        try:
            writer = self._writer
            if writer is None or gen != self._gen:
                raise MQTTError("down")
            try:
                writer.write(data)
                await wait_for_ms(writer.drain(), self.io_timeout_ms)
            except Exception as exc:
                self._lose(gen, "wr %r" % (exc,))
                raise MQTTError("wr") from exc
        finally:
            self._writing = False
            self._written.set()

    async def _read_loop(self, gen):
        # Also the keepalive (a task of its own would cost heap): after half the
        # keepalive without a packet from the broker it sends PINGREQ; when another
        # half passes without any packet (PINGRESP or other), the link is dead.
        reader = self._reader
        io_ms = self.io_timeout_ms
        period = max(self.keepalive_s * 500, 100)
        pinged = False
        try:
            while True:
                try:
                    head = await wait_for_ms(reader.readexactly(1), period)
                except asyncio.TimeoutError:
                    if pinged:
                        self._lose(gen, "ping")
                        return
                    pinged = True
                    await self._write(mp.PINGREQ_PACKET)
                    continue
                pinged = False
                # Remaining length: a variable byte integer of at most 4 bytes.
                length = shift = 0
                while True:
                    byte = (await wait_for_ms(reader.readexactly(1), io_ms))[0]
                    length |= (byte & 0x7F) << shift
                    if not byte & 0x80:
                        break
                    shift += 7
                    if shift > 21:
                        raise MQTTError("len>4")
                if length > _MAX_INCOMING:  # read it in bounded chunks and drop it
                    self.stats["rx_dropped"] += 1
                    self._say("MQTT big %d" % length)
                    while length:
                        chunk = await wait_for_ms(reader.readexactly(min(length, 512)), io_ms)
                        length -= len(chunk)
                    continue
                body = b""
                if length:
                    body = await wait_for_ms(reader.readexactly(length), io_ms)
                await self._dispatch(head[0], body)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - EOF, timeout, reset, garbage: all end the link
            self._lose(gen, "rd %r" % (exc,))

    async def _dispatch(self, first, body):
        kind = first >> 4
        if kind == _PUBACK:
            event = self._pending.pop(mp.parse_pid(body), None)
            if event is not None:
                event.set()
        elif kind == _PINGRESP:
            pass  # any packet shows the link is alive (see _read_loop)
        elif kind == _PUBLISH:
            import mqtt_connect  # a config message: rare, so not kept on the heap

            try:
                await mqtt_connect.receive(self, first, body)
            finally:
                unload("mqtt_connect")
        elif kind == _SUBACK:
            if body[2:3] == b"\x80":
                self._say("MQTT suback")
        else:
            self.stats["rx_errors"] += 1
            self._say("MQTT type%d" % kind)

    def _next_pid(self):
        self._pid = self._pid % 0xFFFF + 1
        return self._pid

    def _call(self, callback, *args):
        if callback is None:
            return
        try:
            callback(*args)
        except Exception as exc:  # noqa: BLE001 - a faulty callback must not kill the link
            self._say("MQTT cb %r" % (exc,))

    def _say(self, text):
        if self._log is not None:
            self._log(text)
