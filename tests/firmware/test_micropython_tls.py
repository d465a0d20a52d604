"""The real firmware in MicroPython speaking TLS (mbedTLS) to a real Mosquitto TLS listener.

The CA is made by ``werkplek pki`` (the ``pki`` fixture); the node holds it in
DER as a board would (``ca_file``) and must refuse a broker certificate from
another CA or for another host name.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.firmware.harness import NodeProcess, Watcher, new_device_id, wait_for
from tests.services import Mosquitto, make_tempdir

pytestmark = pytest.mark.integration


def _cfg(broker: Mosquitto, device_id: str, ca_file: Path, **extra: object) -> dict[str, object]:
    cfg: dict[str, object] = {
        "device_id": device_id,
        "site": "hq",
        "broker_host": "localhost",  # the name the broker's certificate carries
        "broker_port": broker.tls_port,
        "ca_file": str(ca_file),
        "confirm_ms": 300,
        "hold_ms": 800,
        "keepalive_s": 10,
        "backoff_min_ms": 100,
        "backoff_max_ms": 400,
    }
    cfg.update(extra)
    return cfg


@pytest.fixture
def device_id() -> str:
    return new_device_id()


@pytest.fixture
def watcher(tls_mosquitto: Mosquitto, device_id: str) -> Iterator[Watcher]:
    # The watcher uses the broker's plain listener: what arrives came from the node over TLS.
    w = Watcher(tls_mosquitto.host, tls_mosquitto.port, f"werkplek/v1/hq/{device_id}/#")
    yield w
    w.close()


def test_node_connects_over_tls_and_publishes_presence(
    micropython_bin, tls_mosquitto, pki, watcher, device_id, tmp_path
):
    node = NodeProcess(micropython_bin, tmp_path, _cfg(tls_mosquitto, device_id, pki.ca_der))
    try:
        node.wait_line(f"MQTT up localhost:{tls_mosquitto.tls_port}", 30)
        wait_for(
            lambda: any(m.payload == b"online" for m in watcher.snapshot("/status")),
            15,
            "online status over TLS",
        )
        node.set_presence(True)
        wait_for(lambda: any(p["occupied"] for p in watcher.presence()), 15, "occupied over TLS")
    finally:
        node.stop()


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("other_ca", "not correctly signed"),
        ("other_host", "does not match"),
    ],
)
def test_node_refuses_a_broker_it_must_not_trust(
    micropython_bin, tls_mosquitto, pki, watcher, device_id, tmp_path, case, expected
):
    if case == "other_ca":
        cfg = _cfg(tls_mosquitto, device_id, pki.other_dir / "ca.der")
    else:  # the right CA, but the certificate does not name this host
        cfg = _cfg(tls_mosquitto, device_id, pki.ca_der, tls_hostname="broker.elsewhere.example")
    node = NodeProcess(micropython_bin, tmp_path, cfg)
    try:
        node.wait_line(expected, 30)
        node.wait_line("MQTT E", 30, count=2)  # it keeps trying (with backoff), never trusting
        assert not [line for _, line in node.seen if "MQTT up" in line]
        assert not watcher.snapshot("/status"), "the broker saw the node's birth message"
    finally:
        node.stop()


def test_node_reconnects_over_tls_after_broker_restart(micropython_bin, pki, tmp_path):
    broker = Mosquitto(workdir=make_tempdir("mosquitto-tls-restart"), tls_dir=pki.dir)
    broker.start()
    device_id = new_device_id()
    node = NodeProcess(micropython_bin, tmp_path, _cfg(broker, device_id, pki.ca_der))
    watcher = None
    try:
        node.wait_line("MQTT up", 30)
        broker.restart()
        node.wait_line("MQTT down", 30)
        node.wait_line("MQTT up", 60, count=2)
        watcher = Watcher(broker.host, broker.port, f"werkplek/v1/hq/{device_id}/#")
        node.set_presence(True)
        wait_for(
            lambda: any(p["occupied"] for p in watcher.presence()),
            15,
            "occupied after the reconnect",
        )
    finally:
        node.stop()
        if watcher is not None:
            watcher.close()
        broker.stop()
        shutil.rmtree(broker.workdir, ignore_errors=True)
