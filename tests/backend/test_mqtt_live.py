"""Real Mosquitto: registry publication, live state into the API and SSE, bad input counted."""

from __future__ import annotations

import json
import logging
import time

import httpx
import pytest

from contract import SUB_REGISTRY, registry_topic, space_state_topic
from tests.backend.conftest import bearer, now_ms
from tests.backend.helpers import MqttProbe, SseReader
from tests.services import wait_until

pytestmark = pytest.mark.integration


def state_message(space_id: str, state: str, site: str = "hq") -> dict:
    now = now_ms()
    return {
        "v": 1,
        "site": site,
        "space_id": space_id,
        "state": state,
        "since": now - 5000,
        "updated": now,
        "reason": "sensor",
        "devices": ["d-0001"],
    }


def space_of(base_url: str, token: str, space_id: str, floor: str = "hq-1") -> dict:
    body = httpx.get(
        f"{base_url}/api/v1/availability",
        params={"site": "hq", "floor": floor},
        headers=bearer(token),
        timeout=30,
    ).json()
    return next(s for s in body["spaces"] if s["space_id"] == space_id)


@pytest.fixture
def broker(mosquitto_factory):
    """A private broker per test, so retained messages never leak between tests."""
    return mosquitto_factory()


@pytest.fixture
def backend(seeded, serve, broker):
    return serve(seeded.settings(mqtt_enabled=True, mqtt_url=broker.url, stale_check_s=0.2))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_registry_is_published_and_republished_on_reassignment(seeded, backend, broker):
    probe = MqttProbe(broker.host, broker.port, SUB_REGISTRY)
    try:
        total = seeded.query("SELECT count(*) FROM device")[0][0]
        took = wait_until(
            lambda: len({t for t, _, _ in probe.messages}) >= total, 30, what="registry"
        )
        first = json.loads(probe.on_topic(registry_topic("hq", "d-0001"))[-1][0])
        assert first == {
            "v": 1,
            "device_id": "d-0001",
            "site": "hq",
            "space_id": "hq.1.d-001",
            "kind": "desk",
            "floor": "hq-1",
            "zone": "A",
            "heartbeat_s": 60,
        }
        response = httpx.put(
            f"{backend.base_url}/api/v1/devices/d-0001",
            json={"space_id": "hq.2.r-01"},
            headers=bearer(seeded.admin_token),
            timeout=30,
        )
        assert response.status_code == 200
        topic = registry_topic("hq", "d-0001")
        moved = wait_until(
            lambda: any(b'"hq.2.r-01"' in p for p, _ in probe.on_topic(topic)), 30, what="republish"
        )
        print(f"registry: {total} retained in {took:.3f} s; reassignment seen after {moved:.3f} s")
    finally:
        probe.close()
    # Retained: a gateway that connects later learns the new mapping.
    late = MqttProbe(broker.host, broker.port, topic)
    try:
        wait_until(lambda: late.on_topic(topic), 30, what="retained registry message")
        payload, retained = late.on_topic(topic)[0]
        assert retained and json.loads(payload)["space_id"] == "hq.2.r-01"
        assert json.loads(payload)["kind"] == "meeting_room"
    finally:
        late.close()
    watch = MqttProbe(broker.host, broker.port, topic)
    try:
        httpx.put(
            f"{backend.base_url}/api/v1/devices/d-0001",
            json={"space_id": None},
            headers=bearer(seeded.admin_token),
            timeout=30,
        ).raise_for_status()
        # The clearing (empty, retained) publish has reached the broker...
        wait_until(
            lambda: any(p == b"" for p, _ in watch.on_topic(topic)), 30, what="registry cleared"
        )
    finally:
        watch.close()
    # ...so a gateway that connects now gets no retained record.
    gone = MqttProbe(broker.host, broker.port, topic)
    try:
        time.sleep(0.5)
        assert gone.on_topic(topic) == []  # empty retained payload = unassigned
    finally:
        gone.close()


@pytest.mark.serial  # asserts the 1 s push bound (`make test` runs it alone)
@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_live_state_reaches_the_api_and_the_stream(seeded, serve, broker, protocol):
    probe = MqttProbe(broker.host, broker.port)
    # Published before the backend starts: it must arrive as a retained message on connect.
    probe.publish(space_state_topic("hq", "hq.1.d-002"), state_message("hq.1.d-002", "vacant"))
    settings = seeded.settings(
        mqtt_enabled=True, mqtt_url=broker.url, mqtt_protocol=protocol, sse_ping_s=0.2
    )
    backend = serve(settings)
    token = seeded.signage_token
    reader = SseReader(
        f"{backend.base_url}/api/v1/stream?site=hq&floor=hq-1",
        headers={"Authorization": f"Bearer {token}"},
    ).start()
    try:
        wait_until(
            lambda: space_of(backend.base_url, token, "hq.1.d-002")["availability"] == "free", 30
        )
        assert space_of(backend.base_url, token, "hq.1.d-001")["availability"] == "unknown"
        wait_until(lambda: reader.of("snapshot"), 30, what="snapshot")
        snapshot = reader.of("snapshot")[0]
        assert len(snapshot["spaces"]) == 44 and snapshot["connected"] is True
        sent = time.monotonic()
        probe.publish(
            space_state_topic("hq", "hq.1.d-001"), state_message("hq.1.d-001", "occupied")
        )
        api_s = wait_until(
            lambda: space_of(backend.base_url, token, "hq.1.d-001")["availability"] == "occupied",
            30,
        )

        def delta_arrived():
            for event, data, at in reader.events:
                if event == "delta" and any(
                    s["space_id"] == "hq.1.d-001" and s["availability"] == "occupied"
                    for s in data["spaces"]
                ):
                    return at
            return None

        wait_until(delta_arrived, 30, what="SSE delta")
        sse_s = delta_arrived() - sent
        delta = next(d for d in reader.of("delta") if d["spaces"])
        assert [s["space_id"] for s in delta["spaces"]] == ["hq.1.d-001"]  # only what changed
        floor1 = next(f for f in delta["floors"] if f["floor"] == "hq-1")
        assert floor1["occupied"] == 1 and floor1["free_desks"] == 1
        print(f"publish -> API {api_s * 1000:.0f} ms, publish -> SSE delta {sse_s * 1000:.0f} ms")
        assert sse_s < 1.0
        wait_until(lambda: reader.comments >= 2, 30, what="keep-alive comments")
    finally:
        reader.stop()
        probe.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_malformed_space_state_is_logged_counted_and_ignored(seeded, backend, broker, caplog):
    probe = MqttProbe(broker.host, broker.port)
    topic = space_state_topic("hq", "hq.1.d-003")
    bad = [
        (topic, b"{broken"),
        (topic, b"[]"),
        (topic, json.dumps({**state_message("hq.1.d-003", "occupied"), "v": 7}).encode()),
        (topic, json.dumps(state_message("hq.1.d-003", "sleeping")).encode()),
        (topic, json.dumps(state_message("hq.1.d-004", "occupied")).encode()),
        (topic, b"x" * 2000),
    ]
    marker = "hq.1.d-006"

    def backend_reads_states() -> bool:
        # Not retained, like the bad ones: it arrives only once the backend's
        # subscription is in place (under load that came after the first four bad
        # messages, which were then never seen).
        probe.publish(
            space_state_topic("hq", marker),
            json.dumps(state_message(marker, "occupied")).encode(),
            retain=False,
        )
        return space_of(backend.base_url, seeded.signage_token, marker)["availability"] == (
            "occupied"
        )

    try:
        wait_until(backend_reads_states, 30, interval=0.5, what="the backend reads space states")
        with caplog.at_level(logging.WARNING, logger="backend.availability.live"):
            for t, payload in bad:
                probe.publish(t, payload, retain=False)
            health = f"{backend.base_url}/healthz"
            # The backend counts a rejection before it logs it: wait for both.
            wait_until(
                lambda: (
                    sum(httpx.get(health, timeout=30).json()["space_state_rejected"].values()) == 6
                    and caplog.text.count("space state rejected") == 6
                ),
                30,
                what="six rejections counted and logged",
            )
        assert httpx.get(health, timeout=30).json()["space_state_rejected"] == {
            "bad_json": 1,
            "not_object": 1,
            "bad_version": 1,
            "out_of_range": 1,
            "mismatch": 1,
            "too_large": 1,
        }
        assert caplog.text.count("space state rejected") == 6
        assert (
            space_of(backend.base_url, seeded.signage_token, "hq.1.d-003")["availability"]
            == "unknown"
        )
        # ...and processing goes on.
        probe.publish(topic, state_message("hq.1.d-003", "occupied"))
        wait_until(
            lambda: (
                space_of(backend.base_url, seeded.signage_token, "hq.1.d-003")["availability"]
                == "occupied"
            ),
            30,
        )
    finally:
        probe.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_broker_loss_shows_unknown_and_recovers(seeded, backend, broker):
    probe = MqttProbe(broker.host, broker.port)
    probe.publish(space_state_topic("hq", "hq.1.d-005"), state_message("hq.1.d-005", "vacant"))
    probe.close()
    token = seeded.signage_token
    wait_until(
        lambda: space_of(backend.base_url, token, "hq.1.d-005")["availability"] == "free", 30
    )
    broker.stop()
    lost = wait_until(
        lambda: space_of(backend.base_url, token, "hq.1.d-005")["reason"] == "disconnected", 30
    )
    assert space_of(backend.base_url, token, "hq.1.d-005")["availability"] == "unknown"
    broker.start()
    back = wait_until(
        lambda: space_of(backend.base_url, token, "hq.1.d-005")["availability"] == "free", 30
    )
    print(f"broker loss seen after {lost:.2f} s, recovered {back:.2f} s after restart")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_gateway_last_will_turns_spaces_unknown(seeded, backend, broker):
    probe = MqttProbe(broker.host, broker.port)
    token = seeded.signage_token
    gateway = "werkplek/v1/_gateway/gw-test/status"
    try:
        probe.publish(gateway, b"online")
        probe.publish(space_state_topic("hq", "hq.1.d-006"), state_message("hq.1.d-006", "vacant"))
        wait_until(
            lambda: space_of(backend.base_url, token, "hq.1.d-006")["availability"] == "free", 30
        )
        probe.publish(gateway, b"offline")  # what the broker sends as the gateway's Last Will
        took = wait_until(
            lambda: space_of(backend.base_url, token, "hq.1.d-006")["reason"] == "gateway_offline",
            30,
        )
        assert space_of(backend.base_url, token, "hq.1.d-006")["availability"] == "unknown"
        probe.publish(gateway, b"online")
        wait_until(
            lambda: space_of(backend.base_url, token, "hq.1.d-006")["availability"] == "free", 30
        )
        print(f"gateway offline -> unknown after {took * 1000:.0f} ms")
    finally:
        probe.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_stream_cap_answers_503(seeded, serve):
    backend = serve(seeded.settings(sse_max_clients=1))
    url = f"{backend.base_url}/api/v1/stream"
    auth = {"Authorization": f"Bearer {seeded.signage_token}"}
    reader = SseReader(url, headers=auth).start()
    try:
        wait_until(lambda: reader.of("snapshot"), 30, what="first stream open")
        response = httpx.get(url, headers=auth, timeout=5)
        assert response.status_code == 503
        assert response.json()["reason"] == "too_many_streams"
        assert response.headers["retry-after"] == "10"
    finally:
        reader.stop()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_running_history_gateway_does_not_hide_a_dead_live_gateway(
    seeded, backend, broker, tmp_path
):
    """Split deployment: only the live gateway's status decides whether states are trusted."""
    import os
    import signal

    from contract import device_topic, gateway_history_topic, gateway_status_topic
    from tests.gateway.stream import spawn_gateway, stop_process

    def env(gateway_id: str, role: str) -> dict[str, str]:
        values = {k: v for k, v in os.environ.items() if not k.startswith("WERKPLEK_")}
        values.update(
            WERKPLEK_MQTT_URL=broker.url,
            WERKPLEK_GATEWAY_ID=gateway_id,
            WERKPLEK_GATEWAY_ROLE=role,
            WERKPLEK_STATE_DIR=str(tmp_path / gateway_id),
            WERKPLEK_HISTORY_PATH=str(tmp_path / f"{gateway_id}.sqlite3"),
        )
        return values

    token = seeded.signage_token
    live_status, hist_status = gateway_status_topic("gw-live"), gateway_status_topic("gw-hist")
    hist_alive = gateway_history_topic("gw-hist")
    probe = MqttProbe(broker.host, broker.port, "werkplek/v1/_gateway/#")
    # A history gateway of an older release left "online" on the status topic.
    probe.publish(hist_status, b"online")
    procs = {
        "hist": spawn_gateway(env("gw-hist", "history"), tmp_path / "hist.log"),
        "live": spawn_gateway(env("gw-live", "live"), tmp_path / "live.log"),
    }

    def last(topic: str) -> bytes | None:
        got = probe.on_topic(topic)
        return got[-1][0] if got else None

    try:
        wait_until(lambda: last(hist_alive) == b"online", 30, what="history gateway up")
        wait_until(lambda: last(hist_status) == b"", 30, what="old status cleared")
        wait_until(lambda: last(live_status) == b"online", 30, what="live gateway owns")
        body = {"v": 1, "seq": 1, "boot": 9, "occupied": False, "source": "radar", "ts": now_ms()}
        probe.publish(device_topic("hq", "d-0003", "presence"), body, retain=False)
        wait_until(
            lambda: space_of(backend.base_url, token, "hq.1.d-003")["availability"] == "free", 30
        )
        os.kill(procs["live"].pid, signal.SIGKILL)
        took = wait_until(
            lambda: space_of(backend.base_url, token, "hq.1.d-003")["reason"] == "gateway_offline",
            30,
        )
        assert space_of(backend.base_url, token, "hq.1.d-003")["availability"] == "unknown"
        assert procs["hist"].poll() is None and last(hist_alive) == b"online"
        assert b"online" not in [p for p, _ in probe.on_topic(hist_status)[1:]]
        print(f"live gateway killed -> unknown after {took * 1000:.0f} ms, history gateway up")
    finally:
        for proc in procs.values():
            stop_process(proc)
        probe.close()
