"""The firmware's MQTT client under CPython (the demo fleet) over TLS to a real Mosquitto."""

from __future__ import annotations

import asyncio

import pytest
import wp_config
from mqtt import MQTTClient

pytestmark = pytest.mark.integration


def _client(port: int, ca_file: str, host: str = "localhost") -> MQTTClient:
    return MQTTClient(
        "wp-tls-cpython",
        "localhost",
        port,
        connect_timeout_ms=5000,
        backoff_min_ms=50,
        backoff_max_ms=200,
        tls=(ca_file, host),
    )


async def _first_attempts(client: MQTTClient, until_s: float = 15) -> None:
    """Run the client until it is up or has failed twice."""
    task = asyncio.create_task(client.run())
    try:
        for _ in range(int(until_s / 0.02)):
            if client.up.is_set() or client.stats["connect_failures"] >= 2:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"neither up nor refused: {client.stats}")
    finally:
        await client.close()
        await asyncio.wait_for(task, 5)


def test_cpython_client_connects_over_tls_with_a_pem_ca(tls_mosquitto, pki):
    client = _client(tls_mosquitto.tls_port, str(pki.ca_pem))
    asyncio.run(_first_attempts(client))
    assert client.stats["connects"] == 1 and client.stats["connect_failures"] == 0


@pytest.mark.parametrize("case", ["other_ca", "other_host"])
def test_cpython_client_refuses_what_it_must_not_trust(tls_mosquitto, pki, case):
    if case == "other_ca":
        client = _client(tls_mosquitto.tls_port, str(pki.other_dir / "ca.crt"))
    else:
        client = _client(tls_mosquitto.tls_port, str(pki.ca_pem), host="elsewhere.example")
    asyncio.run(_first_attempts(client))
    assert client.stats["connects"] == 0 and client.stats["connect_failures"] >= 2


def test_tls_config_keys_are_checked_and_optional():
    base = {"device_id": "d-1", "site": "hq"}
    plain = wp_config.build_config(base)
    assert wp_config.tls_of(plain) is None and "ca_file" not in plain  # a plain node's dict
    tls = wp_config.build_config({**base, "broker_host": "mqtt.x", "ca_file": "ca.der"})
    assert wp_config.tls_of(tls) == ("ca.der", "mqtt.x")
    named = wp_config.build_config({**base, "ca_file": "ca.der", "tls_hostname": "b.x"})
    assert wp_config.tls_of(named) == ("ca.der", "b.x")
    for bad in ({"ca_file": 3}, {"tls_hostname": ["x"]}):
        with pytest.raises(ValueError, match="must be a str"):
            wp_config.build_config({**base, **bad})
