"""The real firmware in MicroPython speaking TLS (mbedTLS) to a real Mosquitto TLS listener.

The CA is made by ``werkplek pki`` (the ``pki`` fixture); the node holds it in
DER as a board would (``ca_file``) and must refuse a broker certificate from
another CA or for another host name.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from tests.firmware.harness import NodeProcess, Watcher, new_device_id, wait_for
from tests.services import ConfiguredMosquitto, Mosquitto, make_tempdir, wait_until
from werkplek.broker_acl import device_acl

REPO = Path(__file__).resolve().parents[2]

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


def test_shipped_broker_config_takes_a_device_over_tls_only(micropython_bin, pki, tmp_path):
    """deploy/mosquitto/mosquitto.conf's TLS listener, with a device account and its ACL."""
    device_id, password = new_device_id(), "pw-" + uuid.uuid4().hex
    broker = ConfiguredMosquitto(
        workdir=make_tempdir("mosquitto-deploy-tls"),
        config_file=REPO / "deploy" / "mosquitto" / "mosquitto.conf",
        passwords={"passwd": {device_id: password}, "passwd-services": {"gateway": password}},
        files={
            "acl-devices": device_acl([("hq", device_id)]),
            "acl-services": (REPO / "deploy" / "mosquitto" / "acl-services").read_text(),
        },
        tls=True,
    )
    files = broker.workdir / "tls"  # where the config's /mosquitto/config/tls/ points
    files.mkdir()
    for name in ("ca.crt", "broker.crt", "broker.key"):
        shutil.copyfile(pki.dir / name, files / name)
    if os.geteuid() == 0:  # the broker runs as its own account and must read its key
        for path in (files, *files.iterdir()):
            shutil.chown(path, "mosquitto", "mosquitto")
    broker.start()
    tls_port = broker.ports[8883]
    node = None
    try:
        # Plain MQTT with the right account on the TLS port gets no CONNACK: it is dropped.
        plain = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device_id)
        plain.username_pw_set(device_id, password)
        dropped = False
        deadline = time.monotonic() + 15
        try:
            plain.connect("127.0.0.1", tls_port, keepalive=5)
            while not dropped and time.monotonic() < deadline:
                dropped = plain.loop(timeout=0.5) != mqtt.MQTT_ERR_SUCCESS
                assert not plain.is_connected(), "plain MQTT accepted on the TLS listener"
        except OSError:
            dropped = True
        assert dropped
        cfg = _cfg(broker, device_id, pki.ca_der, username=device_id, password=password)
        cfg["broker_port"] = tls_port
        node = NodeProcess(micropython_bin, tmp_path, cfg)
        node.wait_line(f"MQTT up localhost:{tls_port}", 30)
        node.set_presence(True)
        node.wait_line(f"PUB werkplek/v1/hq/{device_id}/presence", 15)
        log = broker.workdir / "mosquitto.log"
        wait_until(
            lambda: f"as {device_id}" in log.read_text(), 15, what="the broker logged the node"
        )
        assert f"u'{device_id}'" in log.read_text()  # logged in with its device account
    finally:
        if node is not None:
            node.stop()
        broker.stop()
        shutil.rmtree(broker.workdir, ignore_errors=True)
