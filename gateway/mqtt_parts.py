"""Small pieces of the paho edge (:mod:`gateway.mqtt`): the inbound message and paho tuning."""

from __future__ import annotations

import logging
import socket
import struct
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.matcher import MQTTMatcher

from contract.errors import TopicError
from contract.topics import parse_topic

log = logging.getLogger(__name__)

#: PUBACK fixed header (type 4, remaining length 2) and packet id; valid in 3.1.1 and 5
#: (MQTT 5 reads a missing reason code as 0, success).
PUBACK = struct.Struct("!BBH")
PUBACK_TYPE = 0x40


@dataclass(slots=True)  # not frozen: it is built per message and frozen init costs
class Inbound:
    """One message as received, before any validation."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    mid: int
    generation: int
    received_ms: int
    received_s: float


class NoFilters(MQTTMatcher):
    """paho matches every topic against per-topic callbacks; we register none.

    Walking the empty topic tree cost ~8 % of the gateway's CPU per message.
    """

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    def iter_match(self, topic: str) -> Any:
        """No per-topic callbacks: nothing matches."""
        return iter(())

    @staticmethod
    def fits(client: paho.Client) -> bool:
        """True when this paho keeps its filters where we replace them (private in 2.x)."""
        return isinstance(getattr(client, "_on_message_filtered", None), MQTTMatcher)


def is_state_topic(topic: str) -> bool:
    """``werkplek/v1/<site>/_space/<space>/state``: the topics the link coalesces."""
    try:
        return parse_topic(topic).kind == "space_state"
    except TopicError:
        return False


def disable_nagle(client: paho.Client, userdata: Any, sock: Any) -> None:
    """Send small packets at once: Nagle plus delayed ACKs adds ~40 ms per space state."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError) as exc:
        log.debug("TCP_NODELAY not set: %s", exc)
