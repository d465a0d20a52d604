import pytest
from pydantic import ValidationError

from gateway.settings import GatewaySettings, parse_mqtt_url


def test_defaults():
    s = GatewaySettings()
    assert (s.mqtt_url, s.mqtt_protocol, s.gateway_id) == ("mqtt://127.0.0.1:1883", "5", "gw-1")
    assert s.influx_url is None and s.stale_after_s == 180 and s.batch_size == 1000
    assert s.client_id == "werkplek-gateway-gw-1"


def test_reads_the_environment(monkeypatch):
    monkeypatch.setenv("WERKPLEK_MQTT_URL", "mqtt://gw:p%40ss@broker.local:1884")
    monkeypatch.setenv("WERKPLEK_MQTT_PROTOCOL", "3.1.1")
    monkeypatch.setenv("WERKPLEK_INFLUX_URL", "http://influx:8086/")
    monkeypatch.setenv("WERKPLEK_INFLUX_TOKEN", "tok")
    monkeypatch.setenv("WERKPLEK_METRICS_PORT", "9108")
    s = GatewaySettings()
    b = s.broker
    assert (b.host, b.port, b.username, b.password, b.tls) == (
        "broker.local",
        1884,
        "gw",
        "p@ss",
        False,
    )
    assert s.mqtt_protocol == "3.1.1"
    assert s.influx_url == "http://influx:8086"
    assert s.influx_token is not None and s.influx_token.get_secret_value() == "tok"
    assert s.metrics_port == 9108


def test_mqtts_defaults_to_8883():
    assert parse_mqtt_url("mqtts://broker").port == 8883


@pytest.mark.parametrize(
    "env",
    [
        {"WERKPLEK_MQTT_URL": "http://broker:1883"},
        {"WERKPLEK_MQTT_URL": "mqtt://broker:99999"},
        {"WERKPLEK_MQTT_URL": "mqtt://"},
        {"WERKPLEK_MQTT_PROTOCOL": "4"},
        {"WERKPLEK_GATEWAY_ID": "GW 1"},
        {"WERKPLEK_STALE_AFTER_S": "0"},
        {"WERKPLEK_BATCH_SIZE": "0"},
        {"WERKPLEK_BATCH_LINGER_MS": "-1"},
        {"WERKPLEK_METRICS_PORT": "70000"},
        {"WERKPLEK_INFLUX_URL": "influx:8086"},
        {"WERKPLEK_INFLUX_USERNAME": "only-user"},
        {
            "WERKPLEK_INFLUX_TOKEN": "t",
            "WERKPLEK_INFLUX_USERNAME": "u",
            "WERKPLEK_INFLUX_PASSWORD": "p",
        },
    ],
)
def test_invalid_values_fail_fast(monkeypatch, env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError):
        GatewaySettings()
