"""The backend's broker link over TLS (``mqtts://``) against a real Mosquitto TLS listener."""

from __future__ import annotations

import threading

import pytest
from pydantic import ValidationError

from backend.config import Settings
from backend.mqtt import MqttBridge
from tests.gateway.mqtt_helpers import TestClient
from tests.services import wait_until

pytestmark = pytest.mark.integration


def _bridge(settings: Settings, got: list[tuple[str, bytes]], up: threading.Event) -> MqttBridge:
    return MqttBridge(
        settings.mqtt_url,
        subscriptions=["werkplek/v1/tls-backend/#"],
        on_message=lambda topic, payload, _retain: got.append((topic, payload)),
        on_connection=lambda connected: up.set() if connected else None,
        tls=settings.mqtt_tls(),
    )


def test_backend_receives_over_tls_trusting_the_municipal_ca(tls_mosquitto, pki):
    settings = Settings(mqtt_url=tls_mosquitto.tls_url, mqtt_ca_file=pki.ca_pem)
    got: list[tuple[str, bytes]] = []
    up = threading.Event()
    bridge = _bridge(settings, got, up)
    bridge.start()
    publisher = TestClient(tls_mosquitto)
    try:
        wait_until(up.is_set, 15, what="backend connected over TLS")
        wait_until(lambda: bridge.connected, 15, what="subscribed")
        publisher.publish("werkplek/v1/tls-backend/x", b"hello")
        wait_until(lambda: ("werkplek/v1/tls-backend/x", b"hello") in got, 15, what="message")
    finally:
        publisher.close()
        bridge.stop()


def test_backend_refuses_a_broker_certificate_from_another_ca(tls_mosquitto, pki):
    settings = Settings(mqtt_url=tls_mosquitto.tls_url, mqtt_ca_file=pki.other_dir / "ca.crt")
    log = tls_mosquitto.workdir / "mosquitto.log"
    before = log.read_text().count("alert unknown ca")
    up = threading.Event()
    bridge = _bridge(settings, [], up)
    bridge.start()
    try:
        wait_until(
            lambda: log.read_text().count("alert unknown ca") > before,
            15,
            what="the broker logged the backend's TLS refusal",
        )
        assert not up.is_set() and not bridge.connected
    finally:
        bridge.stop()


def test_backend_tls_settings_are_checked(pki):
    with pytest.raises(ValidationError, match="need an mqtts://"):
        Settings(mqtt_url="mqtt://localhost", mqtt_ca_file=pki.ca_pem)
    with pytest.raises(ValidationError, match="go together"):
        Settings(mqtt_url="mqtts://localhost", mqtt_key_file=pki.ca_pem)
    assert Settings(mqtt_url="mqtt://localhost").mqtt_tls() is None
