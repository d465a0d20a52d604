"""The staleness ticker recomputes only the spaces whose state just reached its age limit."""

from __future__ import annotations

import json

from backend.availability import hub as hub_module
from backend.availability.hub import AvailabilityHub
from backend.availability.live import LiveState
from backend.availability.service import FloorInfo, SpaceInfo

START = 2_000_000_000_000
SPACES = [
    SpaceInfo(f"hq.1.d-{n:03d}", "hq", "hq-1", "desk", f"W{n}", "A", False, 1, False, True, False)
    for n in range(200)
]


def make_hub() -> tuple[AvailabilityHub, dict[str, int]]:
    clock = {"now": START}
    hub = AvailabilityHub(LiveState(), stale_after_s=180, clock_ms=lambda: clock["now"])
    hub.set_registry(SPACES, [FloorInfo("hq-1", "hq", "Verdieping 1", 1)])
    hub.on_connection(True)  # connected, no gateway status known: age counts
    return hub, clock


def publish(hub: AvailabilityHub, space: str, updated: int) -> None:
    body = {"v": 1, "site": "hq", "space_id": space, "state": "vacant", "since": updated,
            "updated": updated, "reason": "sensor", "devices": ["d-0001"]}  # fmt: skip
    hub.on_message(f"werkplek/v1/hq/_space/{space}/state", json.dumps(body).encode())


def test_only_the_due_spaces_are_recomputed(monkeypatch):
    hub, clock = make_hub()
    for n, space in enumerate(SPACES):
        publish(hub, space.space_id, START - 500 * n)  # space n is n/2 seconds old
    assert all(item.availability == "free" for item in hub.view.values())
    computed: list[str] = []
    real_combine = hub_module.combine

    def counting(space, *args, **kwargs):
        computed.append(space.space_id)
        return real_combine(space, *args, **kwargs)

    monkeypatch.setattr(hub_module, "combine", counting)
    clock["now"] = START + 1  # nothing has reached 180 s yet
    assert hub.refresh_stale() == 0
    assert computed == []
    clock["now"] = START + 90_001  # spaces 180..199 are now 180.001 s old or more
    changed = hub.refresh_stale()
    stale = {sid for sid, item in hub.view.items() if item.availability == "unknown"}
    assert stale == {f"hq.1.d-{n:03d}" for n in range(180, 200)}
    assert changed == len(stale) == 20
    assert sorted(computed) == sorted(stale)  # the 180 fresh ones were not looked at
    assert all(hub.view[sid].reason == "stale" for sid in stale)


def test_a_newer_state_outlives_its_old_deadline():
    hub, clock = make_hub()
    space = SPACES[0].space_id
    publish(hub, space, START)
    clock["now"] = START + 100_000
    publish(hub, space, clock["now"])  # fresh again: the first deadline must not stale it
    clock["now"] = START + 180_001
    hub.refresh_stale()
    assert hub.view[space].availability == "free"
    clock["now"] = START + 280_001
    hub.refresh_stale()
    assert hub.view[space].availability == "unknown"


def test_with_a_live_gateway_deadlines_are_dropped_not_applied():
    hub, clock = make_hub()
    hub.on_message("werkplek/v1/_gateway/gw-1/status", b"online")
    space = SPACES[0].space_id
    publish(hub, space, START)
    clock["now"] = START + 200_000
    assert hub.refresh_stale(apply=False) == 0
    assert hub.view[space].availability == "free"  # a live gateway keeps states current
    assert hub._stale_at == []  # drained: nothing piles up while the gateway is online
