"""Unit tests of space-state validation, the availability rule and the SSE hub."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from backend.availability.hub import AvailabilityHub
from backend.availability.live import LiveState
from backend.availability.service import Context, FloorInfo, SpaceInfo, combine
from contract import ContractError as InvalidSpaceState
from contract.space_state import parse_space_state

TOPIC = "werkplek/v1/hq/_space/hq.1.d-001/state"


def body(**overrides):
    base = {
        "v": 1,
        "site": "hq",
        "space_id": "hq.1.d-001",
        "state": "occupied",
        "since": 1_764_410_400_000,
        "updated": 1_764_410_460_000,
        "reason": "sensor",
        "devices": ["d-0001"],
    }
    base.update(overrides)
    return json.dumps({k: v for k, v in base.items() if v is not ...}).encode()


def test_valid_message_parses():
    state = parse_space_state(TOPIC, body())
    assert state is not None
    assert (state.space_id, state.state, state.since, state.devices) == (
        "hq.1.d-001",
        "occupied",
        1_764_410_400_000,
        ("d-0001",),
    )


def test_empty_payload_means_cleared():
    assert parse_space_state(TOPIC, b"") is None


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("werkplek/v1/hq/_space/Bad Space/state", body(), "bad_topic"),
        ("werkplek/v2/hq/_space/hq.1.d-001/state", body(), "bad_topic"),
        (TOPIC, b"{" + b" " * 1100 + b"}", "too_large"),
        (TOPIC, b"{not json", "bad_json"),
        (TOPIC, b"\xff\xfe", "bad_json"),
        (TOPIC, b"[1, 2]", "not_object"),
        (TOPIC, body(v=2), "bad_version"),
        (TOPIC, body(v=True), "bad_type"),
        (TOPIC, body(state=...), "missing_field"),
        (TOPIC, body(state="free"), "out_of_range"),
        (TOPIC, body(reason="magic"), "out_of_range"),
        (TOPIC, body(since=-5), "out_of_range"),
        (TOPIC, body(since="yesterday"), "bad_type"),
        (TOPIC, body(devices="d-0001"), "bad_type"),
        (TOPIC, body(devices=["Not An Id"]), "bad_type"),
        (TOPIC, body(space_id="hq.1.d-002"), "mismatch"),
        (TOPIC, body(site="dalfsen"), "mismatch"),
    ],
)
def test_malformed_messages_are_rejected_with_a_reason(topic, payload, reason):
    with pytest.raises(InvalidSpaceState) as info:
        parse_space_state(topic, payload)
    assert info.value.reason == reason


def test_live_state_counts_and_logs_rejections_and_keeps_going(caplog):
    live = LiveState()
    with caplog.at_level(logging.WARNING, logger="backend.availability.live"):
        assert live.handle_message(TOPIC, b"{nope", 1) is None
        assert live.handle_message(TOPIC, body(state="maybe"), 2) is None
        assert live.handle_message(TOPIC, body(), 3) == "hq.1.d-001"
    assert live.rejected == {"bad_json": 1, "out_of_range": 1}
    assert live.accepted == 1
    assert "bad_json" in caplog.text and "out_of_range" in caplog.text
    assert live.states["hq.1.d-001"].state == "occupied"
    assert live.handle_message(TOPIC, b"", 4) == "hq.1.d-001"
    assert "hq.1.d-001" not in live.states


SPACE = SpaceInfo(
    "hq.1.d-001", "hq", "hq-1", "desk", "Werkplek 1.01", "A", True, 1, False, True, False
)


def state_of(state: str, updated: int):
    parsed = parse_space_state(TOPIC, body(state=state, since=updated - 1000, updated=updated))
    assert parsed is not None
    return parsed


@pytest.mark.parametrize(
    ("state", "age_ms", "connected", "expected", "reason"),
    [
        ("occupied", 1_000, True, "occupied", "sensor"),
        ("vacant", 1_000, True, "free", "sensor"),
        ("unknown", 1_000, True, "unknown", "sensor"),
        ("vacant", 181_000, True, "unknown", "stale"),
        ("occupied", 181_000, True, "unknown", "stale"),
        ("vacant", 1_000, False, "unknown", "disconnected"),
        (None, 0, True, "unknown", "no_state"),
    ],
)
def test_combine_never_shows_silence_as_free(state, age_ms, connected, expected, reason):
    now = 2_000_000_000_000
    live = state_of(state, now - age_ms) if state else None
    ctx = Context(now_ms=now, connected=connected, stale_after_ms=180_000, disconnected_ms=now)
    result = combine(SPACE, live, ctx)
    assert (result.availability, result.reason) == (expected, reason)


@pytest.mark.parametrize(
    ("gateway", "age_ms", "expected", "reason"),
    [
        ("online", 3_600_000, "free", "sensor"),  # a live gateway keeps states current
        ("offline", 1_000, "unknown", "gateway_offline"),
        ("unknown", 181_000, "unknown", "stale"),
    ],
)
def test_gateway_liveness_decides_whether_age_matters(gateway, age_ms, expected, reason):
    now = 2_000_000_000_000
    ctx = Context(now_ms=now, connected=True, stale_after_ms=180_000, gateway=gateway)
    result = combine(SPACE, state_of("vacant", now - age_ms), ctx)
    assert (result.availability, result.reason) == (expected, reason)


def test_gateway_status_messages():
    live = LiveState()
    assert live.gateway == "unknown"
    assert live.handle_message("werkplek/v1/_gateway/gw-1/status", b"online", 1) == "*"
    assert live.gateway == "online"
    live.handle_message("werkplek/v1/_gateway/gw-2/status", b"offline", 2)
    assert live.gateway == "online"  # one live gateway is enough
    live.handle_message("werkplek/v1/_gateway/gw-1/status", b"offline", 3)
    assert (live.gateway, live.gateway_changed_ms) == ("offline", 3)
    assert live.handle_message("werkplek/v1/_gateway/gw-1/status", b"sleepy", 4) is None
    assert live.handle_message("werkplek/v1/_gateway/GW 1/status", b"online", 5) is None
    assert live.rejected == {"bad_status": 1, "bad_topic": 1}
    live.handle_message("werkplek/v1/_gateway/gw-1/status", b"", 6)
    live.handle_message("werkplek/v1/_gateway/gw-2/status", b"", 6)
    assert live.gateway == "unknown"


def test_combine_has_a_slot_for_bookings():
    now = 2_000_000_000_000
    ctx = Context(now_ms=now, connected=True, stale_after_ms=180_000)
    assert combine(SPACE, state_of("vacant", now), ctx, booked=True).availability == "booked"
    assert combine(SPACE, state_of("occupied", now), ctx, booked=True).availability == "occupied"


def make_hub(queue_size=4):
    clock = {"now": 2_000_000_000_000}
    live = LiveState()
    hub = AvailabilityHub(
        live, stale_after_s=180, queue_size=queue_size, clock_ms=lambda: clock["now"]
    )
    other = SpaceInfo(
        "hq.2.d-001", "hq", "hq-2", "desk", "Werkplek 2.01", "A", False, 1, False, True, False
    )
    floors = [
        FloorInfo("hq-1", "hq", "Verdieping 1", 1),
        FloorInfo("hq-2", "hq", "Verdieping 2", 2),
    ]
    hub.set_registry([SPACE, other], floors)
    hub.on_connection(True)
    return hub, clock


def publish(hub, clock, state, space="hq.1.d-001", floor="1"):
    topic = f"werkplek/v1/hq/_space/{space}/state"
    hub.on_message(
        topic, body(state=state, space_id=space, since=clock["now"], updated=clock["now"])
    )


def decode(frame):
    lines = frame.strip().split("\n")
    return lines[0].removeprefix("event: "), json.loads(lines[1].removeprefix("data: "))


def test_hub_sends_deltas_only_for_the_clients_floor():
    async def scenario():
        hub, clock = make_hub()
        floor1 = hub.subscribe("hq", "hq-1")
        floor2 = hub.subscribe("hq", "hq-2")
        publish(hub, clock, "occupied")
        event, data = decode(floor1.queue.get_nowait())
        assert event == "delta"
        assert [(s["space_id"], s["availability"]) for s in data["spaces"]] == [
            ("hq.1.d-001", "occupied")
        ]
        _, data2 = decode(floor2.queue.get_nowait())
        assert data2["spaces"] == []  # only the floor counts changed for floor 2's screen
        assert {f["floor"] for f in data2["floors"]} == {"hq-1"}
        publish(hub, clock, "occupied")  # same state again: nothing to send
        assert floor1.queue.empty()

    asyncio.run(scenario())


def test_stale_state_turns_unknown_on_the_ticker():
    async def scenario():
        hub, clock = make_hub()
        publish(hub, clock, "vacant")
        assert hub.view["hq.1.d-001"].availability == "free"
        clock["now"] += 181_000
        assert hub.refresh(None) == 1
        assert hub.view["hq.1.d-001"].availability == "unknown"
        assert hub.view["hq.1.d-001"].reason == "stale"

    asyncio.run(scenario())


def test_slow_client_is_resynchronised_without_blocking_others():
    async def scenario():
        hub, clock = make_hub(queue_size=2)
        slow = hub.subscribe(None, None)
        fast = hub.subscribe(None, None)
        received = []
        for i in range(6):
            publish(hub, clock, "occupied" if i % 2 == 0 else "vacant")
            received.append(fast.queue.get_nowait())  # the fast one drains as it goes
        assert len(received) == 6
        assert slow.resyncs >= 1
        backlog = []
        while not slow.queue.empty():
            backlog.append(slow.queue.get_nowait())
        assert None in backlog  # the resync marker: the stream sends a fresh snapshot
        assert len(backlog) <= 2

    asyncio.run(scenario())


def test_lost_broker_marks_everything_unknown():
    async def scenario():
        hub, clock = make_hub()
        publish(hub, clock, "vacant")
        hub.on_connection(False)
        assert {i.availability for i in hub.view.values()} == {"unknown"}
        assert hub.view["hq.1.d-001"].reason == "disconnected"
        hub.on_connection(True)
        assert hub.view["hq.1.d-001"].availability == "free"

    asyncio.run(scenario())
