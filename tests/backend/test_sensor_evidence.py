"""The check-in scheduler's evidence comes from raw sensor state and its freshness.

Not from the display availability: a space shown "booked" is still a vacant sensor,
and a state that cannot be trusted (stale, broker lost, gateway offline, site link
down, the gateway's own "unknown") is ``unknown``, on which nothing is ever released.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from backend.availability.live import LiveState
from backend.bookings import scheduler
from backend.bookings.evidence import sensor_views
from backend.database import make_engine, make_session_factory
from tests.backend.test_scheduler import add, status

NOW = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
LIMIT_MS = 180_000
DESK = "hq.1.d-001"


def message(
    state: str, updated_ms: int, space: str = DESK, vacant_for_ms: int = 60_000
) -> tuple[str, bytes]:
    body = {"v": 1, "site": "hq", "space_id": space, "state": state,
            "since": updated_ms - vacant_for_ms, "updated": updated_ms, "reason": "sensor",
            "devices": ["d-0001"]}  # fmt: skip
    return f"werkplek/v1/hq/_space/{space}/state", json.dumps(body).encode()


def live_with(*messages: tuple[str, bytes], gateway: bytes | None = None) -> LiveState:
    live = LiveState()
    live.set_connected(True, NOW_MS)
    if gateway is not None:
        live.handle_message("werkplek/v1/_gateway/gw-1/status", gateway, NOW_MS)
    for topic, payload in messages:
        assert live.handle_message(topic, payload, NOW_MS) is not None
    return live


@pytest.mark.parametrize(
    ("state", "age_ms", "gateway", "expected"),
    [
        ("vacant", 1_000, None, "vacant"),
        ("occupied", 1_000, None, "occupied"),
        ("vacant", LIMIT_MS, None, "vacant"),  # exactly at the limit: still fresh
        ("vacant", LIMIT_MS + 1, None, "unknown"),  # no gateway status: age counts
        ("occupied", LIMIT_MS + 1, None, "unknown"),
        ("vacant", 3_600_000, b"online", "vacant"),  # a live gateway keeps states current
        ("vacant", 1_000, b"offline", "unknown"),
        ("unknown", 1_000, None, "unknown"),  # the gateway's own verdict
    ],
)
def test_evidence_follows_the_raw_state_and_its_freshness(state, age_ms, gateway, expected):
    live = live_with(message(state, NOW_MS - age_ms), gateway=gateway)
    view = sensor_views(live, NOW_MS, LIMIT_MS)[DESK]
    assert view.state == expected
    if expected != "unknown":
        assert view.since == datetime.fromtimestamp((NOW_MS - age_ms - 60_000) / 1000, UTC)


def test_a_lost_broker_or_site_link_makes_every_sensor_unknown():
    live = live_with(message("vacant", NOW_MS - 1_000))
    assert sensor_views(live, NOW_MS, LIMIT_MS, lambda site: site == "hq")[DESK].state == "unknown"
    assert sensor_views(live, NOW_MS, LIMIT_MS, lambda site: False)[DESK].state == "vacant"
    live.set_connected(False, NOW_MS)
    assert sensor_views(live, NOW_MS, LIMIT_MS)[DESK].state == "unknown"


@pytest.fixture
def factory(seeded, people):
    engine = make_engine(seeded.url)
    yield make_session_factory(engine)
    engine.dispose()


def test_a_stale_vacant_sensor_never_releases_a_no_show(factory, people):
    ann = people("employee", "ann")
    start = NOW - timedelta(minutes=40)  # long past every grace period
    stale = add(factory, ann.id, DESK, start, 120)
    fresh = add(factory, ann.id, "hq.1.d-002", start, 120)
    live = live_with(
        # Both empty for an hour; the first state is too old to count.
        message("vacant", NOW_MS - LIMIT_MS - 1, vacant_for_ms=3_600_000),
        message("vacant", NOW_MS - 1_000, space="hq.1.d-002", vacant_for_ms=3_600_000),
    )
    result = scheduler.run_once(factory, NOW, sensor_views(live, NOW_MS, LIMIT_MS))
    assert result.released == [fresh]
    assert status(factory, stale) == ("booked", None, True)  # manual check-in instead
    assert status(factory, fresh) == ("released", "no_show", False)
