"""``python -m gateway`` as a real process: runs, serves metrics, stops cleanly on SIGTERM."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from contract import gateway_status_topic
from tests.gateway.mqtt_helpers import TestClient
from tests.services import free_port, wait_until

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_python_m_gateway_runs_until_sigterm(tmp_path, mosquitto):
    port = free_port()
    env = {
        **os.environ,
        "WERKPLEK_MQTT_URL": mosquitto.url,
        "WERKPLEK_GATEWAY_ID": "gw-main-test",
        "WERKPLEK_STATE_DIR": str(tmp_path / "state"),
        "WERKPLEK_HISTORY_PATH": str(tmp_path / "history.sqlite3"),
        "WERKPLEK_METRICS_PORT": str(port),
    }
    status_topic = gateway_status_topic("gw-main-test")
    watcher = TestClient(mosquitto, subscribe=[status_topic])
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        started = wait_until(lambda: watcher.on_topic(status_topic)[-1:] == [b"online"], 10)
        print(f"online {started:.2f} s after launch")
        watcher.publish("werkplek/v1/hq/d-0001/presence", b"garbage")

        def rejected_metric():
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
            except httpx.HTTPError:
                return False
            return 'werkplek_gateway_rejected_total{reason="bad_json"} 1.0' in text

        wait_until(rejected_metric, 10, what="metrics endpoint shows the rejection")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        wait_until(lambda: watcher.on_topic(status_topic)[-1:] == [b"offline"], 5)
        assert (tmp_path / "state" / "deadletter.sqlite3").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        watcher.close()
    output = proc.stdout.read().decode()
    assert "rejected" in output and "bad_json" in output


def test_a_killed_gateway_is_reported_offline_by_its_last_will(tmp_path, mosquitto):
    env = {
        **os.environ,
        "WERKPLEK_MQTT_URL": mosquitto.url,
        "WERKPLEK_GATEWAY_ID": "gw-will-test",
        "WERKPLEK_STATE_DIR": str(tmp_path / "state"),
        "WERKPLEK_HISTORY_PATH": str(tmp_path / "history.sqlite3"),
    }
    status_topic = gateway_status_topic("gw-will-test")
    watcher = TestClient(mosquitto, subscribe=[status_topic])
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: watcher.on_topic(status_topic)[-1:] == [b"online"], 10)
        proc.kill()
        proc.wait(5)
        took = wait_until(
            lambda: watcher.on_topic(status_topic)[-1:] == [b"offline"], 10, what="Last Will"
        )
        print(f"Last Will seen {took * 1000:.0f} ms after SIGKILL")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        watcher.close()
