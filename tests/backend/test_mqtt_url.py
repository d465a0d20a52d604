"""Parsing of the broker URL setting."""

from __future__ import annotations

import pytest

from backend.mqtt import BrokerAddress, parse_mqtt_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://127.0.0.1:1883", BrokerAddress("127.0.0.1", 1883, False, None, None)),
        ("mqtt://broker", BrokerAddress("broker", 1883, False, None, None)),
        ("mqtts://broker", BrokerAddress("broker", 8883, True, None, None)),
        (
            "mqtt://backend:p%40ss%3Aword@mq.example:1884",
            BrokerAddress("mq.example", 1884, False, "backend", "p@ss:word"),
        ),
    ],
)
def test_parse_mqtt_url(url, expected):
    assert parse_mqtt_url(url) == expected


@pytest.mark.parametrize("url", ["http://broker", "mqtt://", "broker:1883"])
def test_bad_mqtt_urls_are_refused(url):
    with pytest.raises(ValueError):
        parse_mqtt_url(url)
