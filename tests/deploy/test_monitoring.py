"""Prometheus config and alert rules: promtool accepts them, and every metric they name is
exposed by the real gateway and backend (a rule on a misspelt metric would never fire).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from backend.config import Settings as BackendSettings
from backend.main import create_app
from gateway.app import Gateway
from gateway.settings import GatewaySettings
from tests.helpers import serve_app
from tests.services import free_port, require_binary, wait_until
from werkplek.demo import prepare_database

REPO = Path(__file__).resolve().parents[2]
PROM = REPO / "deploy" / "prometheus"
RULES = yaml.safe_load((PROM / "alerts.yml").read_text())
METRIC = re.compile(r"\b(werkplek_[a-z0-9_]+)")


def _promtool(*args: str) -> str:
    promtool = require_binary("promtool", "/usr/bin/promtool")
    done = subprocess.run(
        [promtool, *args], cwd=PROM, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_promtool_accepts_the_config_and_the_rules():
    assert "SUCCESS" in _promtool("check", "config", "prometheus.yml")
    rules = sum(len(group["rules"]) for group in RULES["groups"])
    assert f"SUCCESS: {rules} rules found" in _promtool("check", "rules", "alerts.yml")


def test_each_alert_fires_on_bad_series_and_not_on_healthy_ones():
    # alerts_test.yml names every alert in both a healthy and a broken case.
    tests = yaml.safe_load((PROM / "alerts_test.yml").read_text())["tests"]
    named = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    alerts = {rule["alert"] for group in RULES["groups"] for rule in group["rules"]}
    assert named == alerts
    assert "SUCCESS" in _promtool("test", "rules", "alerts_test.yml")


def test_the_issue_s_alerts_are_there():
    text = (PROM / "alerts.yml").read_text()
    for needle in (
        "werkplek_backend_mqtt_connected == 0",  # broker disconnected
        "werkplek_gateway_spool_points / werkplek_gateway_spool_capacity_points > 0.8",
        "werkplek_backend_history_retention_policy == 0",  # retention missing
        'werkplek_backend_sensors{state=~"offline|stale"}',  # share of sensors offline
        'up{job="backend"} == 0',  # backend down
    ):
        assert needle in text, needle


def test_prometheus_scrapes_both_services_where_compose_serves_them():
    config = yaml.safe_load((PROM / "prometheus.yml").read_text())
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    targets = {
        job["job_name"]: job["static_configs"][0]["targets"][0] for job in config["scrape_configs"]
    }
    gateway_port = compose["gateway"]["environment"]["WERKPLEK_METRICS_PORT"]
    assert targets["gateway"] == f"gateway:{gateway_port}"
    assert (
        targets["backend"] == f"backend:{compose['backend']['environment']['WERKPLEK_HTTP_PORT']}"
    )
    assert "prometheus" in compose


def _scrape(url: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    text = httpx.get(url, timeout=10).text
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        found.setdefault(family.name, {})  # a family without samples still counts as exposed
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


@pytest.mark.integration
def test_every_metric_in_the_rules_is_exposed_by_the_real_services(
    mosquitto, influx_db, tmp_path, monkeypatch
):
    # The backend's history probe reads the facility settings from the environment.
    monkeypatch.setenv("WERKPLEK_INFLUX_URL", influx_db.url)
    monkeypatch.setenv("WERKPLEK_INFLUX_DATABASE", influx_db.database)
    settings = BackendSettings(
        database_url=f"sqlite:///{tmp_path}/werkplek.sqlite3",
        mqtt_url=mosquitto.url,
        mqtt_client_id="monitoring-backend",
        http_port=free_port(),
    )
    prepare_database(settings)
    metrics_port = free_port()
    gateway = Gateway(
        GatewaySettings(
            mqtt_url=mosquitto.url,
            gateway_id="monitoring-gw",
            influx_url=influx_db.url,
            influx_database=influx_db.database,
            state_dir=tmp_path / "gateway",
            metrics_port=metrics_port,
        )
    )
    with serve_app(create_app(settings), settings.http_port) as base:
        gateway.start()
        try:
            scraped: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}

            def healthy() -> bool:
                # `werkplek gateway` writes its health (which sets the link gauge) every second.
                gateway.status()
                scraped.clear()
                scraped.update(_scrape(f"http://127.0.0.1:{metrics_port}/metrics"))
                scraped.update(_scrape(f"{base}/metrics"))
                policies = scraped.get("werkplek_backend_history_retention_policy", {})
                return (
                    scraped["werkplek_backend_mqtt_connected"][()] == 1
                    and scraped["werkplek_backend_gateway_online"][()] == 1
                    and scraped["werkplek_backend_history_reachable"][()] == 1
                    and sorted(policies.values()) == [1.0, 1.0]
                    and scraped["werkplek_gateway_mqtt_connected"][()] == 1
                    and scraped["werkplek_gateway_history_retention_ok"][()] == 1
                )

            wait_until(healthy, 30, what="backend sees broker, gateway and retention")
            # The request counter has counted the earlier scrapes by now.
            counted = _scrape(f"{base}/metrics")["werkplek_backend_requests_total"]
            assert counted[(("method", "GET"), ("status", "2xx"))] >= 1
        finally:
            gateway.stop()
    used = {
        name
        for group in RULES["groups"]
        for rule in group["rules"]
        for name in METRIC.findall(rule["expr"])
    }
    assert len(used) >= 7
    missing = sorted(used - set(scraped))
    assert not missing, f"alert rules name metrics nobody exposes: {missing}"
    assert {dict(k)["state"] for k in scraped["werkplek_backend_sensors"]} == {
        "online",
        "offline",
        "stale",
    }


def test_metrics_are_refused_through_the_reverse_proxy(tmp_path):
    from fastapi.testclient import TestClient

    settings = BackendSettings(
        database_url=f"sqlite:///{tmp_path}/werkplek.sqlite3", mqtt_enabled=False
    )
    with TestClient(create_app(settings)) as client:
        direct = client.get("/metrics")
        assert direct.status_code == 200
        assert "werkplek_backend_mqtt_connected 0.0" in direct.text
        proxied = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert proxied.status_code == 404
        assert proxied.headers["content-type"].startswith("application/problem+json")
        assert proxied.json()["reason"] == "not_found"
