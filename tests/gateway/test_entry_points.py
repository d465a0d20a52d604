"""``werkplek gateway`` as run in production: JSON logs, a loud wrong broker, honest health."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.services import free_port, wait_until

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


class Service:
    """A ``werkplek`` command in its own process; stderr collected line by line."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "werkplek", *args],
            env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def healthcheck(self, service: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "werkplek", "healthcheck", service],
            env=self.env, cwd=self.cwd, capture_output=True, text=True, timeout=30,
        )  # fmt: skip

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
            self._reader.join(5)


def gateway_env(tmp_path: Path, mqtt_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WERKPLEK_")}
    env.update(
        WERKPLEK_MQTT_URL=mqtt_url,
        WERKPLEK_GATEWAY_ID="gw-entry",
        WERKPLEK_STATE_DIR=str(tmp_path / "state"),
        WERKPLEK_HISTORY_PATH=str(tmp_path / "history.sqlite3"),
        WERKPLEK_LOG_FORMAT="json",
        WERKPLEK_HEALTH_MAX_DISCONNECTED_S="2",
        **extra,
    )
    return env


def test_a_wrong_broker_address_is_an_error_at_once_and_fails_the_healthcheck(tmp_path):
    nobody = free_port()  # nothing listens here
    env = gateway_env(tmp_path, f"mqtt://127.0.0.1:{nobody}")
    gateway = Service(["gateway"], env, tmp_path)
    try:
        wait_until(
            lambda: any('"ERROR"' in line and "unreachable" in line for line in gateway.lines),
            60, what="an error line about the unreachable broker",
        )  # fmt: skip
        wait_until(lambda: gateway.healthcheck("gateway").returncode == 1, 30, interval=0.5)
        check = gateway.healthcheck("gateway")
        assert check.returncode == 1
        assert "not connected to the MQTT broker" in check.stderr
        assert f"127.0.0.1:{nobody} unreachable" in check.stderr
    finally:
        assert gateway.stop() == 0
    records = [json.loads(line) for line in gateway.lines if line.strip()]  # every line is JSON
    first_error = next(r for r in records if r["level"] == "ERROR")
    assert "unreachable" in first_error["message"] and first_error["logger"] == "gateway.mqtt"


def test_the_healthcheck_follows_the_broker_link(tmp_path, mosquitto_factory, influx_db):
    broker = mosquitto_factory()
    env = gateway_env(
        tmp_path, broker.url,
        WERKPLEK_INFLUX_URL=influx_db.url, WERKPLEK_INFLUX_DATABASE=influx_db.database,
    )  # fmt: skip
    gateway = Service(["gateway"], env, tmp_path)
    health_file = tmp_path / "state" / "gateway-health.json"

    def ready() -> bool:
        try:
            health = json.loads(health_file.read_text())
        except (OSError, ValueError):
            return False
        return health["mqtt"]["connected"] is True and health["retention"]["ok"] is not None

    try:
        # Healthy during the first seconds too (the broker may take a moment): wait for both.
        wait_until(ready, 30, what="gateway connected and retention checked")
        assert gateway.healthcheck("gateway").returncode == 0
        health = json.loads(health_file.read_text())
        assert health["retention"]["ok"] is True, health["retention"]
        assert health["history"]["reachable"] is True

        broker.stop()
        wait_until(lambda: gateway.healthcheck("gateway").returncode == 1, 30, interval=0.5)
        broker.start()
        wait_until(lambda: gateway.healthcheck("gateway").returncode == 0, 60, interval=0.5)
    finally:
        assert gateway.stop() == 0
    # The InfluxDB schema and retention check made HTTP requests: httpx stayed quiet.
    assert not [line for line in gateway.lines if "HTTP Request" in line]
    assert all(json.loads(line)["level"] for line in gateway.lines if line.strip())


def test_python_m_gateway_writes_the_same_health_file(tmp_path, mosquitto):
    env = gateway_env(tmp_path, mosquitto.url)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway"], env=env, cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        health = tmp_path / "state" / "gateway-health.json"

        def connected() -> bool:
            try:
                return json.loads(health.read_text())["mqtt"]["connected"] is True
            except (OSError, ValueError):
                return False

        wait_until(connected, 30, what="python -m gateway reporting a connected broker")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    assert proc.stderr is not None
    lines = [line for line in proc.stderr.read().splitlines() if line.strip()]
    assert lines and all(json.loads(line)["logger"] for line in lines)


def test_werkplek_backend_logs_json_and_its_healthcheck_follows_the_broker(
    tmp_path, mosquitto_factory
):
    broker = mosquitto_factory()
    broker.stop()  # the backend starts while the broker is down
    port = free_port()
    env = gateway_env(
        tmp_path, broker.url,
        WERKPLEK_DATABASE_URL=f"sqlite:///{tmp_path / 'werkplek.sqlite3'}",
        WERKPLEK_HTTP_PORT=str(port),
    )  # fmt: skip
    backend = Service(["backend"], env, tmp_path)
    try:
        wait_until(
            lambda: any('"ERROR"' in line and "unreachable" in line for line in backend.lines),
            60, what="an error line about the unreachable broker",
        )  # fmt: skip
        wait_until(lambda: backend.healthcheck("backend").returncode == 1, 60, interval=0.5)
        check = backend.healthcheck("backend")
        assert "not connected to the MQTT broker" in check.stderr, check.stderr
        broker.start()
        wait_until(lambda: backend.healthcheck("backend").returncode == 0, 60, interval=0.5)
    finally:
        # uvicorn shuts down cleanly, then re-raises the SIGTERM it caught.
        assert backend.stop() in (0, -signal.SIGTERM)
    records = [json.loads(line) for line in backend.lines if line.strip()]  # uvicorn's too
    assert any(r["logger"].startswith("uvicorn") for r in records)
    assert not [r for r in records if "HTTP Request" in r["message"]]
