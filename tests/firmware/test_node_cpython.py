"""The Node under CPython asyncio: the API the demo fleet uses, buffering and clean stop."""

from __future__ import annotations

import asyncio
import json

import pytest
import supervisor
from node import Node

from tests.firmware.harness import Watcher, new_device_id, wait_for


class Switch:
    """A presence input the test flips."""

    def __init__(self) -> None:
        self.on = False

    def value(self) -> bool:
        return self.on


def test_config_defaults_and_validation():
    node = Node({"device_id": "d-0001", "site": "hq"}, Switch())
    cfg = node.cfg
    assert (cfg["client_id"], cfg["heartbeat_s"], cfg["clock_set"]) == ("wp-d-0001", 60, True)
    assert (cfg["confirm_ms"], cfg["hold_ms"]) == (2000, 600000)
    room = Node({"device_id": "r-1", "site": "hq", "space_type": "meeting_room"}, Switch())
    assert room.cfg["hold_ms"] < cfg["hold_ms"]
    for bad in [
        {"device_id": "D1"},
        {"site": ""},
        {"source": "camera"},
        {"hold_ms": -1},
        {"poll_ms": 0},
        {"space_type": "kitchen"},
        {"keepalive_s": "60"},
    ]:
        with pytest.raises(ValueError):
            Node({"device_id": "d-1", "site": "hq", **bad}, Switch())


def test_events_while_offline_are_buffered_bounded_and_in_order():
    async def scenario():
        # Nothing listens on port 9: the node stays offline.
        node = Node(
            {
                "device_id": "d-1",
                "site": "hq",
                "broker_port": 9,
                "confirm_ms": 0,
                "hold_ms": 0,
                "poll_ms": 5,
                "buffer_size": 4,
                "heartbeat_s": 1,
            },
            Switch(),
        )
        switch = node._read.__self__
        task = asyncio.create_task(node.run())
        for i in range(7):
            switch.on = i % 2 == 0
            await asyncio.sleep(0.03)
        assert node.stats["changes"] == 7
        # seq 0 is in flight (waiting for a broker), 1 and 2 were dropped as the oldest.
        assert node.inflight[0] == 0
        assert [seq for seq, _ in node.queue] == [3, 4, 5, 6]
        assert node.stats["dropped"] == 2
        assert [json.loads(p)["reason"] for _, p in node.queue] == ["change"] * 4
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())


def test_sensor_errors_are_counted_and_the_node_keeps_running():
    calls = {"n": 0}

    def flaky() -> bool:
        calls["n"] += 1
        if calls["n"] % 2:
            raise OSError("i2c glitch")
        return True

    async def scenario():
        log: list[str] = []
        node = Node(
            {"device_id": "d-1", "site": "hq", "broker_port": 9, "confirm_ms": 0, "poll_ms": 5},
            flaky,
            log=log.append,
        )
        task = asyncio.create_task(node.run())
        await asyncio.sleep(0.1)
        assert node.stats["sensor_errors"] >= 3 and node.machine.occupied
        assert supervisor.healthy(node)
        assert any(line.startswith("SENSOR ") for line in log)
        task.cancel()

    asyncio.run(scenario())


@pytest.mark.integration
def test_demo_api_many_nodes_in_one_process_and_clean_stop(mosquitto):
    site = "demo-" + new_device_id()[2:]
    watcher = Watcher(mosquitto.host, mosquitto.port, f"werkplek/v1/{site}/#")
    switches = [Switch() for _ in range(20)]

    async def scenario():
        nodes = [
            Node(
                {
                    "device_id": f"d-{i:04d}",
                    "site": site,
                    "broker_host": mosquitto.host,
                    "broker_port": mosquitto.port,
                    "confirm_ms": 100,
                    "hold_ms": 200,
                    "clock_set": i % 2 == 0,
                },
                sw,
            )
            for i, sw in enumerate(switches)
        ]
        assert len({n.boot for n in nodes}) == len(nodes)
        tasks = [asyncio.create_task(n.run()) for n in nodes]
        await asyncio.to_thread(
            wait_for, lambda: len(watcher.snapshot("/presence")) >= 20, 10, "boot reports"
        )
        for sw in switches:
            sw.on = True
        await asyncio.to_thread(
            wait_for,
            lambda: sum(1 for p in watcher.presence() if p["occupied"]) >= 20,
            10,
            "occupied from every node",
        )
        for n in nodes:
            n.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)

    try:
        asyncio.run(scenario())
        # stop() returned once the broker acknowledged "offline"; the watcher gets it a
        # moment later.
        wait_for(
            lambda: sum(m.payload == b"offline" for m in watcher.snapshot("/status")) >= 20,
            5,
            "offline from every node",
        )
    finally:
        watcher.close()
    for i in range(20):
        msgs = [m for m in watcher.snapshot() if f"/d-{i:04d}/" in m.topic]
        status = [m.payload for m in msgs if m.topic.endswith("/status")]
        assert status == [b"online", b"offline"]  # offline published by stop(), not the LWT
        pres = [m.json() for m in msgs if m.topic.endswith("/presence")]
        assert [p["seq"] for p in pres] == list(range(len(pres)))
        assert all((p["ts"] is None) is (i % 2 == 1) for p in pres)


@pytest.mark.integration
@pytest.mark.serial  # asserts the gap between two heartbeats (`make test` runs it alone)
def test_heartbeat_repeats_the_state_every_heartbeat_s(mosquitto, record_property):
    device_id = new_device_id()
    watcher = Watcher(mosquitto.host, mosquitto.port, f"werkplek/v1/hq/{device_id}/presence")
    switch = Switch()
    switch.on = True

    async def scenario():
        node = Node(
            {
                "device_id": device_id,
                "site": "hq",
                "broker_host": mosquitto.host,
                "broker_port": mosquitto.port,
                "confirm_ms": 0,
                "heartbeat_s": 1,
            },
            switch,
        )
        task = asyncio.create_task(node.run())
        took = await asyncio.to_thread(
            wait_for, lambda: len(watcher.presence()) >= 4, 10, "two heartbeats after the change"
        )
        node.stop()
        await asyncio.wait_for(task, 5)
        return took

    try:
        took = asyncio.run(scenario())
    finally:
        watcher.close()
    record_property("two_heartbeats_s", round(took, 3))
    msgs = watcher.snapshot()
    reasons = [m.json()["reason"] for m in msgs]
    # Present from the first sample (confirm 0): the change is queued before the link is
    # up, the report on connect follows it, then heartbeats about 1 s apart.
    assert reasons[:4] == ["change", "heartbeat", "heartbeat", "heartbeat"]
    assert [m.json()["occupied"] for m in msgs[:4]] == [True, True, True, True]
    gap = msgs[3].at - msgs[2].at
    assert 0.8 <= gap <= 1.5, gap
