"""Registry reads, auth and device assignment over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

import contract
from backend.database import make_engine, make_session_factory
from backend.main import create_app
from backend.registry_publisher import RegistryPublisher
from backend.spaces.models import Device
from tests.backend.conftest import bearer
from tests.backend.helpers import MqttProbe
from tests.services import wait_until


def test_reads_need_a_token(api):
    response = api.get("/api/v1/sites")
    assert response.status_code == 401
    assert response.json()["reason"] == "missing_token"
    assert response.headers["www-authenticate"] == "Bearer"
    response = api.get("/api/v1/sites", headers=bearer("made-up"))
    assert response.status_code == 401
    assert response.json()["reason"] == "invalid_token"


def test_signage_token_reads_the_registry(api, seeded):
    sites = api.get("/api/v1/sites", headers=bearer(seeded.signage_token)).json()
    assert [s["id"] for s in sites] == ["hq", "dalfsen"]
    floors = api.get("/api/v1/sites/hq/floors", headers=bearer(seeded.signage_token)).json()
    assert [f["id"] for f in floors] == ["hq-1", "hq-2", "hq-3"]
    spaces = api.get("/api/v1/floors/hq-2/spaces", headers=bearer(seeded.signage_token)).json()
    assert all(s["floor_id"] == "hq-2" for s in spaces)
    assert {"x", "y", "w", "h", "quiet", "capacity", "kind"} <= spaces[0].keys()
    devices = api.get("/api/v1/sites/dalfsen/devices", headers=bearer(seeded.signage_token))
    assert len(devices.json()) == 9


def test_unknown_places_are_404_with_a_reason(api, seeded):
    response = api.get("/api/v1/sites/nowhere/floors", headers=bearer(seeded.admin_token))
    assert (response.status_code, response.json()["reason"]) == (404, "site_not_found")
    response = api.get("/api/v1/floors/hq-9/spaces", headers=bearer(seeded.admin_token))
    assert (response.status_code, response.json()["reason"]) == (404, "floor_not_found")
    response = api.get(
        "/api/v1/availability?site=hq&floor=dalfsen-0", headers=bearer(seeded.admin_token)
    )
    assert (response.status_code, response.json()["reason"]) == (404, "floor_not_found")


def test_signage_token_cannot_write(api, seeded):
    response = api.put(
        "/api/v1/devices/d-0001",
        json={"space_id": "hq.1.d-002"},
        headers=bearer(seeded.signage_token),
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "role_not_allowed"
    assert seeded.query("SELECT space_id FROM device WHERE id = 'd-0001'") == [("hq.1.d-001",)]


def test_admin_moves_and_unassigns_a_device(api, seeded):
    admin = bearer(seeded.admin_token)
    response = api.put("/api/v1/devices/d-0001", json={"space_id": "hq.1.d-002"}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": "d-0001",
        "site_id": "hq",
        "space_id": "hq.1.d-002",
        "source": "pir",
        "heartbeat_s": 60,
    }
    assert seeded.query("SELECT space_id FROM device WHERE id = 'd-0001'") == [("hq.1.d-002",)]
    response = api.put("/api/v1/devices/d-0001", json={"space_id": None}, headers=admin)
    assert response.json()["space_id"] is None
    # A brand-new node can be registered straight onto a space.
    response = api.put(
        "/api/v1/devices/d-9000",
        json={"space_id": "dalfsen.0.d-001", "source": "pir"},
        headers=admin,
    )
    assert response.status_code == 200
    assert response.json()["site_id"] == "dalfsen"


def test_bad_assignments_are_refused_with_reasons(api, seeded):
    admin = bearer(seeded.admin_token)
    cases = [
        ("d-0001", {"space_id": "hq.9.d-999"}, 404, "space_not_found"),
        ("d-0001", {"space_id": "dalfsen.0.d-001"}, 409, "site_mismatch"),
        ("D_0001", {"space_id": "hq.1.d-001"}, 422, "bad_device_id"),
        ("d-9001", {"space_id": None}, 422, "no_site"),
    ]
    for device, body, status, reason in cases:
        response = api.put(f"/api/v1/devices/{device}", json=body, headers=admin)
        assert (response.status_code, response.json().get("reason")) == (status, reason), device
    response = api.put("/api/v1/devices/d-0001", json={"space": "x"}, headers=admin)
    assert response.status_code == 422  # unknown fields are refused by the schema


def test_bootstrap_admin_token_is_stored_hashed(seeded):
    settings = seeded.settings(bootstrap_admin_token="let-me-in-please-0123456789")
    with TestClient(create_app(settings)) as client:
        response = client.put(
            "/api/v1/devices/d-0002",
            json={"space_id": "hq.1.d-003"},
            headers=bearer("let-me-in-please-0123456789"),
        )
        assert response.status_code == 200
    stored = [row[0] for row in seeded.query("SELECT token_hash FROM api_token")]
    assert "let-me-in-please-0123456789" not in stored
    assert all(len(h) == 64 for h in stored)


def test_health_and_start_page(api):
    assert api.get("/healthz").json()["status"] == "ok"
    response = api.get("/", follow_redirects=False)
    assert response.status_code in (302, 307)
    assert response.headers["location"] == "/signage/?site=hq&floor=hq-1"
    page = api.get("/signage/")
    assert page.status_code == 200 and "signage.js" in page.text


def test_ids_with_control_characters_or_topic_characters_are_refused(api, seeded):
    """A trailing newline once passed the id check and broke the registry topic."""
    admin = bearer(seeded.admin_token)
    for raw in ("x%0A", "d-0001%0A", "x%0D", "x%00", "x%2B", "x%23", "%0Ad-0001"):
        response = api.put(f"/api/v1/devices/{raw}", json={"space_id": None}, headers=admin)
        assert 400 <= response.status_code < 500, raw
        problem = response.json()
        # NUL is stopped earlier, by the middleware that refuses it in any request
        assert problem["reason"] in ("bad_device_id", "nul_character"), raw
        assert response.headers["content-type"].startswith("application/problem+json"), raw
    response = api.put("/api/v1/devices/x%2Fy", json={"space_id": None}, headers=admin)
    assert response.status_code == 404  # a slash is a path separator: no such route
    for body in (
        {"space_id": None, "site_id": "hq\n"},
        {"space_id": None, "site_id": "hq/+"},
        {"space_id": "hq.1.d-001\n"},
        {"space_id": "hq.1.#"},
    ):
        response = api.put("/api/v1/devices/d-7777", json=body, headers=admin)
        assert response.status_code == 422, body
        assert response.json()["reason"] == "validation_error", body
    devices = seeded.query("SELECT id FROM device")
    assert all("\n" not in d and "\r" not in d and "\0" not in d for (d,) in devices)
    assert ("d-7777",) not in devices


def test_registry_publisher_skips_records_that_cannot_be_published(seeded, caplog):
    """A bad record in the database is logged and skipped, never published or retried."""
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:  # as an older release let through
            for bad in ("x\n", "y+", "z/#"):
                session.add(Device(id=bad, site_id="hq", source="radar", heartbeat_s=60))
            session.commit()
        sent: list[str] = []

        def publish(topic: str, payload: bytes, retain: bool) -> bool:
            sent.append(topic)
            return True

        publisher = RegistryPublisher()
        publisher.attach(publish)
        with make_session_factory(engine)() as session:
            changed = publisher.load(session)
            assert publisher.publish_all() == len(changed)
            bad = session.get(Device, "x\n")
            assert bad is not None
            publisher.update(bad, None)
    finally:
        engine.dispose()
    assert changed and len(sent) == 2 * len(changed)
    for topic in sent + list(publisher.messages()):
        contract.parse_registry_topic(topic)  # raises on an invalid site or device id
    assert "breaks the id contract" in caplog.text


def test_registry_publisher_gives_up_on_a_topic_the_client_refuses(caplog):
    """A client that raises for a topic is not retried: the record is logged and skipped."""

    def publish(topic: str, payload: bytes, retain: bool) -> bool:
        raise ValueError("Publish topic cannot contain wildcards.")

    publisher = RegistryPublisher()
    publisher.attach(publish)
    device = Device(id="d-0001", site_id="hq", space_id=None, source="radar", heartbeat_s=60)
    publisher.update(device, None)
    assert publisher.publish_all() == 0
    assert "cannot be published" in caplog.text


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_bad_record_never_makes_the_backend_reconnect(seeded, serve, mosquitto_factory):
    """Against a real Mosquitto: a record 'x\\n' once cost a reconnect a second, for good."""
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            session.add(Device(id="x\n", site_id="hq", source="radar", heartbeat_s=60))
            session.commit()
    finally:
        engine.dispose()
    broker = mosquitto_factory()
    probe = MqttProbe(broker.host, broker.port, contract.SUB_REGISTRY)
    try:
        serve(seeded.settings(mqtt_enabled=True, mqtt_url=broker.url))
        valid = seeded.query("SELECT count(*) FROM device")[0][0] - 1
        wait_until(lambda: len({t for t, _, _ in probe.messages}) >= valid, 15, what="registry")
        time.sleep(3)  # the old loop reconnected within a second or two
        log = (broker.workdir / "mosquitto.log").read_text()
        assert log.count("as werkplek-backend-") == 1, log[-2000:]
        assert all(contract.parse_registry_topic(t) for t, _, _ in probe.messages)
    finally:
        probe.client.disconnect()
        probe.client.loop_stop()
