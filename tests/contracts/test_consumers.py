"""The golden files through each service's own consumer, as they arrive from the broker.

The backend counts rejections instead of raising (one bad publisher must not stop
live updates), so here every invalid example must land in its reason's counter
and every valid one must be accepted. The gateway's consumer is tested the same
way in tests/gateway/test_messages.py and, with a real broker, in
tests/gateway/test_gateway_integration.py.
"""

from __future__ import annotations

import pytest

from backend.availability.live import LiveState
from backend.health.service import HealthStore
from tests.contracts.golden import examples, payload_of

NOW = 1764410460000


def _feed(kind):
    if kind == "health":
        store = HealthStore(stale_after_s=180)
        return store, lambda e: store.on_message(e["topic"], payload_of(e))
    live = LiveState()
    return live, lambda e: live.handle_message(e["topic"], payload_of(e), NOW)


@pytest.mark.parametrize("kind", ["space_state", "gateway_status", "health"])
def test_the_backend_accepts_every_valid_and_counts_every_invalid_example(kind):
    consumer, feed = _feed(kind)
    valid = examples("valid", kind)
    for entry in valid:
        feed(entry)
    assert (consumer.accepted, dict(consumer.rejected)) == (len(valid), {})
    invalid = examples("invalid", kind)
    for entry in invalid:
        feed(entry)
    expected: dict[str, int] = {}
    for entry in invalid:
        expected[entry["reason"]] = expected.get(entry["reason"], 0) + 1
    assert dict(consumer.rejected) == expected
    assert consumer.accepted == len(valid)


def test_the_backend_keeps_the_last_valid_space_state_and_forgets_a_cleared_one():
    live = LiveState()
    for entry in examples("valid", "space_state"):
        live.handle_message(entry["topic"], payload_of(entry), NOW)
    # hq.1.d-001's last example clears it; the vacant room of dorp-a stays.
    assert set(live.states) == {"dorp-a.0.vergader-1"}
    assert live.states["dorp-a.0.vergader-1"].devices == ("r-0003", "r-0004")
