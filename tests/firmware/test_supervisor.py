"""The board supervisor: the watchdog is fed only while the node is healthy; Wi-Fi and NTP."""

from __future__ import annotations

import asyncio

import supervisor
from node import Node
from wp_compat import ticks_add, ticks_ms

from tests.firmware.fakes import FakeBroker

DEV = {"wifi_ssid": "office-iot", "wifi_password": "pw", "ntp_host": "ntp.example"}


class FakeNode:
    """What ``supervisor.healthy`` reads of a node: its tasks, poll time and last sample."""

    def __init__(self) -> None:
        self.ok = True
        self.tasks = ()
        self.cfg = {"poll_ms": 50}

    @property
    def last_sample_ms(self) -> int:
        # Fresh while ``ok``; else the sampling loop hung a minute ago.
        return ticks_ms() if self.ok else ticks_add(ticks_ms(), -60_000)


class FakeWDT:
    def __init__(self) -> None:
        self.feeds = 0

    def feed(self) -> None:
        self.feeds += 1


class FakeBoard:
    def __init__(self) -> None:
        self.wifi = True
        self.clock: int | None = None
        self.connects: list[tuple[str, str, int]] = []
        self.ntp: list[str] = []

    def wifi_connected(self) -> bool:
        return self.wifi

    def connect_wifi(self, ssid: str, password: str, timeout_ms: int) -> bool:
        self.connects.append((ssid, password, timeout_ms))
        self.wifi = True
        return True

    def clock_ms(self) -> int | None:
        return self.clock

    def sync_ntp(self, host: str) -> bool:
        self.ntp.append(host)
        return False


def run(node, wdt, board, rounds: int, monkeypatch) -> None:
    async def no_sleep(_ms: int) -> None:
        await asyncio.sleep(0)

    monkeypatch.setattr(supervisor, "sleep_ms", no_sleep)
    asyncio.run(supervisor.supervise(node, wdt, board, DEV, tick_ms=1000, rounds=rounds))


def test_the_watchdog_is_fed_only_while_the_node_is_healthy(monkeypatch):
    node, wdt, board = FakeNode(), FakeWDT(), FakeBoard()
    run(node, wdt, board, 10, monkeypatch)
    assert wdt.feeds == 10
    node.ok = False
    run(node, wdt, board, 10, monkeypatch)
    assert wdt.feeds == 10  # a hung node is left to the watchdog's reset


def test_wifi_is_reconnected_and_ntp_retried_each_minute_until_set_then_hourly(monkeypatch):
    node, wdt, board = FakeNode(), FakeWDT(), FakeBoard()
    board.wifi = False
    run(node, wdt, board, 181, monkeypatch)  # 0 .. 180 s, clock never set
    assert board.connects == [("office-iot", "pw", 10000)]
    assert len(board.ntp) == 4 and board.ntp[0] == "ntp.example"  # at 0, 60, 120, 180 s
    board.clock, board.ntp = 1_764_410_400_000, []
    run(node, wdt, board, 3601, monkeypatch)
    assert len(board.ntp) == 2  # at the start of the run and one hour later


def test_a_node_whose_send_loop_died_is_not_healthy():
    async def scenario() -> tuple[bool, bool]:
        broker = FakeBroker()
        node = Node(
            {"device_id": "d-1", "site": "hq", "poll_ms": 5}, lambda: False, opener=broker.open
        )
        task = asyncio.create_task(node.run())
        await asyncio.wait_for(node.client.up.wait(), 5)
        await asyncio.sleep(0.05)
        before = supervisor.healthy(node)

        async def broken(*_args: object, **_kw: object) -> None:
            raise RuntimeError("bug in the send path")

        node.client.publish = broken  # type: ignore[method-assign]
        node.enqueue("change", 0)
        await asyncio.sleep(0.05)
        after = supervisor.healthy(node)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return before, after

    before, after = asyncio.run(scenario())
    assert before is True and after is False
