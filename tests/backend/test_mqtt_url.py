"""Parsing of the broker URL setting."""

from __future__ import annotations

import pytest

from backend.mqtt import BrokerAddress, parse_mqtt_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "mqtt://127.0.0.1:1883",
            BrokerAddress(host="127.0.0.1", port=1883, tls=False, username=None, password=None),
        ),
        (
            "mqtt://broker",
            BrokerAddress(host="broker", port=1883, tls=False, username=None, password=None),
        ),
        (
            "mqtts://broker",
            BrokerAddress(host="broker", port=8883, tls=True, username=None, password=None),
        ),
        (
            "mqtt://backend:p%40ss%3Aword@mq.example:1884",
            BrokerAddress(
                host="mq.example", port=1884, tls=False, username="backend", password="p@ss:word"
            ),
        ),
    ],
)
def test_parse_mqtt_url(url, expected):
    assert parse_mqtt_url(url) == expected


@pytest.mark.parametrize("url", ["http://broker", "mqtt://", "broker:1883"])
def test_bad_mqtt_urls_are_refused(url):
    with pytest.raises(ValueError):
        parse_mqtt_url(url)
