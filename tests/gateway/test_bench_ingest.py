"""The ingest bench knows which space states end a flat-out run.

``python -m bench ingest`` starts its latency phase only once every space
state of the flat-out runs has reached its watcher: a quiet second was not
proof of that (issue 4: the gateway could still hold ~50,000 unsent states,
and the 1,000 msg/s states queued behind them for ~3 s). The bench derives the
state to wait for from the publisher's stream, so the two must agree; checked
here on the real publisher against the real broker.
"""

from __future__ import annotations

import json

import pytest

import contract
from bench.ingest import DEVICES, SITE, _last_change_ms, publish
from tests.gateway.mqtt_helpers import TestClient
from tests.services import wait_until


@pytest.mark.parametrize("flip_every", [4, 1])
def test_last_change_matches_the_published_stream(mosquitto, flip_every):
    total = DEVICES * 12 + 7  # some devices send one message more than the others
    base_ms = 1_700_000_000_000
    watcher = TestClient(mosquitto, subscribe=[contract.device_topic(SITE, "+", "presence")])
    try:
        publish(mosquitto.port, total, 0, 9, flip_every, base_ms)
        wait_until(lambda: len(watcher.messages) >= total, 30, what="stream received")
        with watcher.lock:
            received = list(watcher.messages)
    finally:
        watcher.close()

    by_device: dict[str, list[dict]] = {}
    for topic, payload, _ in received:
        by_device.setdefault(topic.split("/")[3], []).append(json.loads(payload))
    last_change: dict[str, int] = {}
    for device, stream in by_device.items():
        stream.sort(key=lambda body: body["seq"])
        previous = None
        for body in stream:
            if body["occupied"] != previous:
                last_change[f"bench.s-{device.removeprefix('b-')}"] = body["ts"]
            previous = body["occupied"]

    expected = _last_change_ms(base_ms, total, flip_every)
    assert len(expected) == DEVICES
    assert last_change == expected
