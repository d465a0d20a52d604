"""The asyncio MQTT client on fake streams: exact bytes, timeouts, reconnect, DUP resend."""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import mqtt_connect
import pytest
from mqtt import MQTTClient, MQTTError, publish_packet

from tests.firmware.fakes import FakeBroker

STATUS = "werkplek/v1/hq/d-1/status"


def make_client(broker: FakeBroker, **kw) -> MQTTClient:
    opts = {
        "keepalive_s": 60,
        "will": (STATUS, "offline", True),
        "birth": (STATUS, "online", True),
        "connect_timeout_ms": 200,
        "io_timeout_ms": 200,
        "ack_timeout_ms": 200,
        "backoff_min_ms": 10,
        "backoff_max_ms": 40,
        "opener": broker.open,
    }
    opts.update(kw)
    return MQTTClient("wp-d-1", "broker", 1883, **opts)


async def until(pred: Callable[[], object], timeout: float = 10.0) -> float:
    start = time.monotonic()
    while not pred():
        if time.monotonic() - start > timeout:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)
    return time.monotonic() - start


async def running(client: MQTTClient) -> asyncio.Task:
    task = asyncio.create_task(client.run())
    await asyncio.wait_for(client.up.wait(), 10)
    return task


async def finish(client: MQTTClient, task: asyncio.Task) -> None:
    await client.close()
    await asyncio.wait_for(task, 10)


def test_each_setting_is_the_attribute_named_like_its_argument():
    # One definition of the settings: the constructor's signature (no positions to keep
    # in step between modules). Distinct objects, so a swapped pair would show.
    values = {name: object() for name in inspect.signature(MQTTClient).parameters}
    client = MQTTClient(**values)
    for name, value in values.items():
        assert getattr(client, name) is value, name
    quiet = MQTTClient("wp-d-1", "broker")
    assert (quiet.port, quiet.keepalive_s, quiet.log) == (1883, 60, id)  # id: the silent log


def test_connect_sends_connect_with_will_then_retained_birth():
    async def scenario():
        broker = FakeBroker()
        client = make_client(broker, username="u", password="p")
        task = await running(client)
        await until(lambda: len(broker.received) >= 2)
        connect, birth = broker.received[:2]
        assert connect.raw == mqtt_connect.connect_packet(
            "wp-d-1", 60, "u", "p", (STATUS, "offline", True)
        )
        assert connect.raw[:12] == b"\x10\x3c\x00\x04MQTT\x04\xee\x00\x3c"
        assert birth.first == 0x33  # PUBLISH, QoS 1, retain
        assert birth.body.endswith(b"online") and client.connected
        await finish(client, task)
        assert broker.received[-1].raw == b"\xe0\x00"  # DISCONNECT on close
        assert not client.connected

    asyncio.run(scenario())


def test_qos1_publish_returns_only_after_puback():
    async def scenario():
        broker = FakeBroker(ack_publish=False)
        client = make_client(broker, ack_timeout_ms=5000)
        task = await running(client)
        pub = asyncio.create_task(client.publish("t/p", b"x", qos=1))
        await until(lambda: len(broker.of_kind(3)) == 2)
        await asyncio.sleep(0.05)
        assert not pub.done()
        sent = broker.of_kind(3)[-1]
        broker.streams[0].feed(b"\x40\x02" + sent.body[5:7])
        await asyncio.wait_for(pub, 10)
        await finish(client, task)

    asyncio.run(scenario())


def test_missing_puback_drops_link_and_resends_with_dup_after_reconnect():
    async def scenario():
        broker = FakeBroker(ack_from_conn=1)
        client = make_client(broker, ack_timeout_ms=100)
        task = await running(client)
        await asyncio.wait_for(client.publish("t/p", b"x", qos=1), 10)
        first, again = [p for p in broker.of_kind(3) if p.body.endswith(b"x")][:2]
        assert first.first == 0x32 and again.first == 0x3A  # DUP set on the resend
        assert first.body == again.body  # same topic, packet id and payload
        assert (first.conn, again.conn) == (0, 1)
        assert client.stats["resent"] == 1 and broker.streams[0].closed
        await finish(client, task)

    asyncio.run(scenario())


def test_link_loss_while_waiting_resends_on_reconnect():
    async def scenario():
        broker = FakeBroker(ack_publish=False)
        client = make_client(broker, ack_timeout_ms=5000)
        task = await running(client)
        pub = asyncio.create_task(client.publish("t/p", b"y", qos=1))
        await until(lambda: any(p.body.endswith(b"y") for p in broker.of_kind(3)))
        broker.ack_publish = True
        broker.streams[0].feed_eof()
        # Done well before the 5 s ack timeout: the loss wakes the publisher.
        await until(lambda: pub.done(), 4.0)
        assert [p.first for p in broker.of_kind(3) if p.body.endswith(b"y")] == [0x32, 0x3A]
        await finish(client, task)

    asyncio.run(scenario())


@pytest.mark.serial  # asserts when the PINGREQ goes out (`make test` runs it alone)
def test_keepalive_pings_and_a_missing_pingresp_drops_the_link():
    async def scenario():
        broker = FakeBroker(answer_ping=False)
        client = make_client(broker, keepalive_s=1)
        task = await running(client)
        took = await until(lambda: broker.of_kind(12), 2)
        assert 0.4 <= took <= 1.0  # PINGREQ after keepalive / 2 without a packet from the broker
        assert broker.of_kind(12)[0].raw == b"\xc0\x00"
        await until(lambda: len(broker.streams) == 2, 2)
        assert broker.streams[0].closed
        await finish(client, task)

    asyncio.run(scenario())


def test_incoming_qos1_publish_is_delivered_and_acked():
    async def scenario():
        broker = FakeBroker()
        client = make_client(broker)
        got = []
        client.on_message = lambda topic, payload, retain: got.append((topic, payload, retain))
        task = await running(client)
        await client.subscribe("werkplek/v1/hq/d-1/config", 1)
        # SUBSCRIBE, packet id 2 (the birth message had 1), topic filter, QoS 1.
        assert broker.of_kind(8)[0].raw == b"\x82\x1e\x00\x02\x00\x19werkplek/v1/hq/d-1/config\x01"
        broker.streams[0].feed(
            publish_packet("werkplek/v1/hq/d-1/config", b"{}", 1, True, False, 9)
        )
        await until(lambda: got)
        assert got == [("werkplek/v1/hq/d-1/config", b"{}", True)]
        await until(lambda: broker.of_kind(4))
        assert broker.of_kind(4)[0].raw == b"\x40\x02\x00\x09"
        await finish(client, task)

    asyncio.run(scenario())


def test_subscriptions_are_renewed_after_reconnect():
    async def scenario():
        broker = FakeBroker()
        client = make_client(broker)
        await client.subscribe("a/b", 1)  # before the first connect: remembered
        task = await running(client)
        broker.streams[0].feed_eof()
        await until(lambda: len(broker.streams) == 2 and client.connected)
        assert [p.conn for p in broker.of_kind(8)] == [0, 1]
        await finish(client, task)

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x30\xff\xff\xff\xff\x01",
        b"\x30\x01",
        b"\x30\x02\x00\x09",
        b"\xf0\x00",
        b"\x40\x00",
        b"\x40\x01\x01",  # a PUBACK too short for its packet id
    ],
)
def test_garbage_from_the_broker_is_counted_or_reconnects_never_crashes(garbage):
    async def scenario():
        broker = FakeBroker()
        log: list[str] = []
        client = make_client(broker, log=log.append)
        task = await running(client)
        broker.streams[0].feed(garbage)
        if garbage == b"\x30\x01":  # truncated body: only the read timeout notices
            broker.streams[0].feed_eof()
        await until(lambda: len(broker.streams) == 2 or client.stats["rx_errors"])
        await until(lambda: client.connected)
        await client.publish("t/p", b"z", qos=1)  # still works
        assert not task.done()
        assert any("MQTT" in line for line in log)
        await finish(client, task)

    asyncio.run(scenario())


def test_oversized_incoming_packet_is_discarded_and_the_link_stays():
    async def scenario():
        broker = FakeBroker()
        got = []
        client = make_client(broker)
        client.on_message = lambda *a: got.append(a)
        task = await running(client)
        broker.streams[0].feed(publish_packet("big", b"x" * 10000))
        broker.streams[0].feed(publish_packet("small", b"ok"))
        await until(lambda: got)
        assert got == [("small", b"ok", False)] and client.stats["rx_dropped"] == 1
        assert len(broker.streams) == 1
        await finish(client, task)

    asyncio.run(scenario())


def test_refused_connack_and_refused_tcp_back_off_and_retry():
    async def scenario():
        broker = FakeBroker(connack_rc=5, refuse_connections=2)
        log: list[str] = []
        client = make_client(broker, log=log.append)
        task = asyncio.create_task(client.run())
        await until(lambda: client.stats["connect_failures"] >= 4)
        assert any("not authorized" in line for line in log)
        assert any("refused" in line for line in log)
        broker.connack_rc = 0
        await asyncio.wait_for(client.up.wait(), 10)
        await finish(client, task)

    asyncio.run(scenario())


def test_connect_timeout_when_the_peer_never_answers():
    async def scenario():
        broker = FakeBroker(hang_connect=True)
        client = make_client(broker, connect_timeout_ms=50)
        task = asyncio.create_task(client.run())
        await until(lambda: client.stats["connect_failures"] >= 2)
        broker.hang_connect = False
        await asyncio.wait_for(client.up.wait(), 10)
        await finish(client, task)

    asyncio.run(scenario())


def test_stalled_write_times_out_and_reconnects():
    async def scenario():
        broker = FakeBroker()
        client = make_client(broker, io_timeout_ms=100)
        task = await running(client)
        broker.streams[0].stall_drain = True
        with pytest.raises(MQTTError):
            await client.publish("t/p", b"q", qos=0)
        await until(lambda: len(broker.streams) == 2 and client.connected)
        await finish(client, task)

    asyncio.run(scenario())


def test_qos0_publish_while_down_raises():
    async def scenario():
        client = make_client(FakeBroker())
        with pytest.raises(MQTTError):
            await client.publish("t/p", b"x")

    asyncio.run(scenario())


def test_backoff_is_capped_exponential_with_jitter():
    client = make_client(FakeBroker(), backoff_min_ms=100, backoff_max_ms=1000)
    for failures, cap in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (60, 1000)]:
        values = {mqtt_connect.backoff_ms(client, failures) for _ in range(200)}
        assert min(values) >= cap // 2 and max(values) <= cap
        assert len(values) > 10  # jitter spreads a fleet's reconnects


def test_close_while_down_ends_a_waiting_qos1_publish():
    async def scenario():
        broker = FakeBroker(refuse_connections=1000)
        client = make_client(broker, backoff_min_ms=50, backoff_max_ms=50)
        task = asyncio.create_task(client.run())
        pub = asyncio.create_task(client.publish("t/p", b"x", qos=1))
        await asyncio.sleep(0.1)
        assert not pub.done()
        await client.close()
        with pytest.raises(MQTTError):
            await asyncio.wait_for(pub, 10)
        await asyncio.wait_for(task, 10)

    asyncio.run(scenario())


_CONCURRENT = r"""
import sys
sys.path.insert(0, %(firmware)r)
import asyncio
from mqtt import MQTTClient
logs = []
client = MQTTClient("wp-conc-1", %(host)r, %(port)d, keepalive_s=2, log=logs.append)
async def publisher(i):
    for _ in range(60):  # odd ones QoS 1 with payloads that fill the socket buffer
        await client.publish("t/conc/%%d" %% i, b"x" * (30000 if i %% 2 else 50), i %% 2)
async def main():
    task = asyncio.create_task(client.run())
    while not client.up.is_set():
        await asyncio.sleep_ms(10)
    publishers = [asyncio.create_task(publisher(i)) for i in range(6)]
    for p in publishers:
        await p
    await asyncio.sleep_ms(1500)  # a keepalive ping from the read loop meanwhile
    await client.close()
    await task
    print(client.stats["connects"], client.stats["resent"], [s for s in logs if "MQTT" in s])
asyncio.run(main())
"""


@pytest.mark.integration
def test_concurrent_writers_share_the_micropython_stream(micropython_bin, mosquitto):
    """Several tasks write at once on the real socket; the drain under way sends for all."""
    firmware = Path(__file__).resolve().parents[2] / "firmware"
    script = _CONCURRENT % {
        "firmware": str(firmware),
        "host": mosquitto.host,
        "port": mosquitto.port,
    }
    result = subprocess.run(
        [micropython_bin, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    # One connection for everything, nothing re-sent, the link went down only at close.
    assert last.startswith("1 0 ") and "'MQTT down closed'" in last, last
    assert "MQTT E" not in last and "wr" not in last, last
