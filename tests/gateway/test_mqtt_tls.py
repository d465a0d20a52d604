"""The gateway over TLS (``mqtts://``) against a real Mosquitto TLS listener.

The broker's certificate is from the ``pki`` fixture's CA (``werkplek pki``);
the gateway must trust that CA only, so a broker with a certificate from
another CA is refused. Test clients use the broker's plain listener.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError

from contract import SUB_SPACE_STATE, device_topic, registry_topic, space_state_topic
from gateway import Gateway, GatewaySettings
from tests.gateway.mqtt_helpers import TestClient
from tests.services import wait_until

pytestmark = pytest.mark.integration

SITE = "tls"


def _settings(tmp_path: Path, url: str, ca_file: Path) -> GatewaySettings:
    return GatewaySettings(
        mqtt_url=url,
        mqtt_ca_file=ca_file,
        gateway_id="gw-" + uuid.uuid4().hex[:8],
        state_dir=tmp_path / "state",
        history_path=tmp_path / "history.sqlite3",
        batch_linger_ms=20,
        tick_interval_ms=50,
    )


def test_gateway_over_tls_derives_live_state(tmp_path, tls_mosquitto, pki):
    device, space = "d-" + uuid.uuid4().hex[:8], "tls.1." + uuid.uuid4().hex[:8]
    state_topic = space_state_topic(SITE, space)
    client = TestClient(tls_mosquitto, subscribe=[SUB_SPACE_STATE])
    gateway = Gateway(_settings(tmp_path, tls_mosquitto.tls_url, pki.ca_pem))
    gateway.start()
    try:
        wait_until(gateway.connected.is_set, 15, what="gateway connected over TLS")
        registration = {
            "v": 1,
            "device_id": device,
            "site": SITE,
            "space_id": space,
            "kind": "desk",
            "floor": "tls-1",
            "zone": None,
            "heartbeat_s": 600,
        }
        client.publish(registry_topic(SITE, device), registration, retain=True)
        client.publish(device_topic(SITE, device, "status"), "online", retain=True)
        presence = {"v": 1, "seq": 1, "boot": 3, "ts": None, "occupied": True, "source": "pir"}
        client.publish(device_topic(SITE, device, "presence"), presence)
        wait_until(
            lambda: (client.last_json(state_topic) or {}).get("state") == "occupied",
            15,
            what="occupied state from the gateway over TLS",
        )
    finally:
        gateway.stop()
        client.publish(registry_topic(SITE, device), b"", retain=True)
        client.publish(device_topic(SITE, device, "status"), b"", retain=True)
        client.close()


def test_gateway_refuses_a_broker_certificate_from_another_ca(tmp_path, tls_mosquitto, pki):
    log = tls_mosquitto.workdir / "mosquitto.log"
    before = log.read_text().count("alert unknown ca")
    gateway = Gateway(_settings(tmp_path, tls_mosquitto.tls_url, pki.other_dir / "ca.crt"))
    gateway.start()
    try:
        # The broker logs the gateway's refusal (a TLS alert: the CA is unknown to it) ...
        wait_until(
            lambda: log.read_text().count("alert unknown ca") > before,
            15,
            what="the broker logged the gateway's TLS refusal",
        )
        # ... and the gateway never counts as connected.
        assert not gateway.connected.is_set()
    finally:
        gateway.stop()


def test_tls_settings_are_checked_at_start(tmp_path, pki):
    with pytest.raises(ValidationError, match="need an mqtts://"):
        GatewaySettings(mqtt_url="mqtt://localhost:1883", mqtt_ca_file=pki.ca_pem)
    with pytest.raises(ValidationError, match="go together"):
        GatewaySettings(
            mqtt_url="mqtts://localhost", mqtt_ca_file=pki.ca_pem, mqtt_cert_file=pki.ca_pem
        )
    with pytest.raises(ValidationError, match="mqtt_ca_file"):
        GatewaySettings(mqtt_url="mqtts://localhost", mqtt_ca_file=tmp_path / "missing.crt")
    plain = GatewaySettings(mqtt_url="mqtt://localhost:1883")
    assert plain.mqtt_tls() is None
    ctx = GatewaySettings(mqtt_url="mqtts://localhost", mqtt_ca_file=pki.ca_pem).mqtt_tls()
    assert ctx is not None and ctx.check_hostname
