"""An in-memory MQTT peer for client unit tests: fake streams, scripted broker replies.

The broker side parses what the client writes with its own tiny decoder (not the
firmware's), records every packet, and answers CONNECT/PUBLISH/PINGREQ/SUBSCRIBE
unless a test switches that off.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field


@dataclass
class Packet:
    """One packet the client wrote."""

    first: int
    body: bytes
    conn: int

    @property
    def kind(self) -> int:
        return self.first >> 4

    @property
    def raw(self) -> bytes:
        n, enc = len(self.body), bytearray()
        while True:
            b, n = n & 0x7F, n >> 7
            enc.append(b | (0x80 if n else 0))
            if not n:
                return bytes([self.first]) + bytes(enc) + self.body


class FakeStream:
    """Reader and writer of one fake TCP connection (client side)."""

    def __init__(self, broker: FakeBroker, index: int) -> None:
        self.broker, self.index = broker, index
        self.rx = bytearray()
        self.tx = bytearray()
        self.closed = False
        self.eof = False
        self.stall_drain = False
        self._data = asyncio.Event()

    # client side ----------------------------------------------------------------
    async def readexactly(self, n: int) -> bytes:
        while len(self.rx) < n:
            if self.eof or self.closed:
                raise asyncio.IncompleteReadError(bytes(self.rx), n)
            self._data.clear()
            await self._data.wait()
        out = bytes(self.rx[:n])
        del self.rx[:n]
        return out

    def write(self, data: bytes) -> None:
        if self.closed:
            raise ConnectionResetError("closed")
        self.tx += data
        self._parse()

    async def drain(self) -> None:
        while self.stall_drain:
            await asyncio.sleep(0.01)

    def close(self) -> None:
        self.closed = True
        self._data.set()

    async def wait_closed(self) -> None:
        return None

    # broker side ----------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        self.rx += data
        self._data.set()

    def feed_eof(self) -> None:
        self.eof = True
        self._data.set()

    def _parse(self) -> None:
        while len(self.tx) >= 2:
            length, shift, i = 0, 0, 1
            while True:
                if i >= len(self.tx):
                    return
                b = self.tx[i]
                length |= (b & 0x7F) << shift
                shift += 7
                i += 1
                if not b & 0x80:
                    break
            if len(self.tx) < i + length:
                return
            pkt = Packet(self.tx[0], bytes(self.tx[i : i + length]), self.index)
            del self.tx[: i + length]
            self.broker.received.append(pkt)
            self.broker.answer(self, pkt)


@dataclass
class FakeBroker:
    """Hands out fake connections and answers like a well-behaved broker (configurable)."""

    connack_rc: int = 0
    ack_publish: bool = True
    ack_from_conn: int = 0
    answer_ping: bool = True
    refuse_connections: int = 0
    hang_connect: bool = False
    received: list[Packet] = field(default_factory=list)
    streams: list[FakeStream] = field(default_factory=list)

    async def open(self, host: str, port: int) -> tuple[FakeStream, FakeStream]:
        if self.hang_connect:
            await asyncio.sleep(3600)
        if self.refuse_connections:
            self.refuse_connections -= 1
            raise ConnectionRefusedError("refused")
        stream = FakeStream(self, len(self.streams))
        self.streams.append(stream)
        return stream, stream

    def answer(self, stream: FakeStream, pkt: Packet) -> None:
        if pkt.kind == 1:
            stream.feed(bytes([0x20, 2, 0, self.connack_rc]))
        elif (
            pkt.kind == 3
            and pkt.first & 0x06
            and self.ack_publish
            and pkt.conn >= self.ack_from_conn
        ):
            tlen = struct.unpack("!H", pkt.body[:2])[0]
            stream.feed(b"\x40\x02" + pkt.body[2 + tlen : 4 + tlen])
        elif pkt.kind == 12 and self.answer_ping:
            stream.feed(b"\xd0\x00")
        elif pkt.kind == 8:
            stream.feed(b"\x90\x03" + pkt.body[:2] + b"\x01")

    def of_kind(self, kind: int) -> list[Packet]:
        return [p for p in self.received if p.kind == kind]
