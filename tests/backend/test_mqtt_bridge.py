"""The backend's broker link counts as up only once the broker acknowledged its subscriptions.

Between CONNACK and SUBACK no space state flows yet, so the health check, the screens
and the no-show rule (which trusts only a live link) must still see the link as down.
A real broker answers SUBSCRIBE within a millisecond, so a scripted broker at the socket
boundary (MQTT 3.1.1, the few packets the link needs) holds the SUBACK back to look at
that moment, and answers with a refusal to check that one is reported.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from backend.mqtt import MqttBridge
from tests.services import wait_until

TOPICS = ["werkplek/v1/+/space/+/state", "werkplek/v1/+/gateway/status"]


def _read_exactly(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("client closed")
        data += chunk
    return data


def _read_packet(conn: socket.socket) -> tuple[int, bytes]:
    """One MQTT control packet: its first byte and its body."""
    kind = _read_exactly(conn, 1)[0]
    length, shift = 0, 0
    while True:
        byte = _read_exactly(conn, 1)[0]
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
    return kind, _read_exactly(conn, length)


class ScriptedBroker:
    """Accepts one client, answers CONNECT and PINGREQ, and SUBACKs only when told."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.subscribe_id: int | None = None
        self.subscribed = threading.Event()
        self.conn: socket.socket | None = None
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        self.conn = conn
        try:
            while True:
                kind, body = _read_packet(conn)
                if kind >> 4 == 1:  # CONNECT
                    conn.sendall(b"\x20\x02\x00\x00")
                elif kind >> 4 == 8:  # SUBSCRIBE: answered by suback()
                    self.subscribe_id = int.from_bytes(body[:2], "big")
                    self.subscribed.set()
                elif kind >> 4 == 12:  # PINGREQ
                    conn.sendall(b"\xd0\x00")
        except OSError:
            return

    def suback(self, codes: list[int]) -> None:
        assert self.conn is not None and self.subscribe_id is not None
        body = self.subscribe_id.to_bytes(2, "big") + bytes(codes)
        self.conn.sendall(bytes([0x90, len(body)]) + body)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.server.close()


@pytest.fixture
def broker() -> Iterator[ScriptedBroker]:
    scripted = ScriptedBroker()
    yield scripted
    scripted.close()


@dataclass
class Link:
    bridge: MqttBridge
    ups: list[bool]  # what the bridge told the app: True up, False down


@pytest.fixture
def link(broker: ScriptedBroker) -> Iterator[Link]:
    """A bridge to the scripted broker, once it has connected and sent its SUBSCRIBE."""
    ups: list[bool] = []
    bridge = MqttBridge(
        f"mqtt://127.0.0.1:{broker.port}",
        protocol="3.1.1",
        subscriptions=TOPICS,
        on_message=lambda topic, payload, retained: None,
        on_connection=ups.append,
    )
    bridge.start()
    try:
        assert broker.subscribed.wait(30), "the bridge never subscribed"
        yield Link(bridge, ups)
    finally:
        bridge.stop()


def test_the_link_is_up_only_after_every_subscription_is_acknowledged(broker, link):
    bridge, ups = link.bridge, link.ups
    # CONNACK is in and SUBSCRIBE is out; until the SUBACK the link is not up. Before,
    # it was up at CONNACK: this wait saw it within milliseconds.
    with pytest.raises(TimeoutError):
        wait_until(lambda: bridge.connected or ups, 1.0, what="the link up before SUBACK")
    assert bridge.down_reason == "subscribing" and bridge.down_since is not None
    broker.suback([1, 1])
    took = wait_until(lambda: bridge.connected, 30, what="the link up after SUBACK")
    assert ups == [True], ups
    assert bridge.down_since is None and bridge.down_reason is None
    print(f"\nlink up {took * 1000:.0f} ms after the SUBACK was sent")


def test_a_refused_subscription_keeps_the_link_down_and_says_which(broker, link):
    bridge = link.bridge
    broker.suback([1, 0x80])  # the broker's ACL refused the gateway status topic
    wait_until(
        lambda: (bridge.down_reason or "").startswith("subscription refused"),
        30,
        what="the refusal reported",
    )
    reason = bridge.down_reason or ""
    assert TOPICS[1] in reason and TOPICS[0] not in reason
    assert not bridge.connected and link.ups == []
