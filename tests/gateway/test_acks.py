"""MqttLink sends the acks of a batch in one packet write, never those of an old connection."""

import struct

from gateway.mqtt import Inbound, MqttLink
from gateway.settings import parse_mqtt_url


def inbound(mid, generation=1, qos=1):
    return Inbound("werkplek/v1/hq/d-1/presence", b"{}", qos, False, mid, generation, 0, 0.0)


def make_link():
    link = MqttLink(
        parse_mqtt_url("mqtt://127.0.0.1:1"),
        client_id="test-acks",
        protocol="5",
        status_topic="werkplek/v1/_gateway/t/status",
        subscriptions=[],
        on_message=lambda m: None,
    )
    sent = []
    link._queue_packet = lambda command, packet, mid, qos: sent.append((command, packet))
    link._generation = 2
    link.connected.set()
    return link, sent


def test_acks_of_a_batch_go_out_in_one_packet_write_and_old_connections_are_skipped():
    link, sent = make_link()
    for mid in (7, 8, 65535):
        link.ack(inbound(mid, generation=2))
    link.ack(inbound(9, generation=1))  # received on the previous connection
    link.ack(inbound(10, generation=2, qos=0))  # QoS 0 needs no ack
    assert sent == []  # nothing goes out before the flush
    assert link.flush_acks() == 3
    ((command, packet),) = sent
    assert command == 0x40
    assert [struct.unpack("!BBH", packet[i : i + 4]) for i in range(0, len(packet), 4)] == [
        (0x40, 2, 7),
        (0x40, 2, 8),
        (0x40, 2, 65535),
    ]
    assert link.flush_acks() == 0 and len(sent) == 1  # nothing left


def test_acks_queued_while_disconnected_are_dropped_for_redelivery():
    link, sent = make_link()
    link.ack(inbound(5, generation=2))
    link.connected.clear()
    assert link.flush_acks() == 0 and sent == []
    link.connected.set()
    assert link.flush_acks() == 0  # dropped, not kept for a later connection
