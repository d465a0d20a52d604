"""Smoke test of the deployed stack, set up the way docs/operations.md says.

Wheel built and installed into a fresh virtualenv; PostgreSQL with a
non-superuser owner; InfluxDB with authentication, initialised by `werkplek
influx init`; Mosquitto with the project's config, accounts and ACLs; gateway and
backend as processes of the installed package, configured only through
environment variables; a real MicroPython node; Chromium. Then: a desk turns
occupied on /signage/, /app/ and /facility/ load, a facility report returns data,
the retention policies exist, the Grafana panels' queries run, and after a
restart of every service nothing is lost. Each step is logged with its time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa

from tests.deploy.stack import (
    REPO,
    AuthInflux,
    Service,
    StepLog,
    project_broker,
    shared_install,
)
from tests.e2e.test_sensor_to_screen import NodeProcess
from tests.services import ConfiguredMosquitto, PostgreSQL, free_port, make_tempdir, wait_until

#: Installing from PyPI dominates; the bound holds on a loaded 2-core machine.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.timeout(420),
    pytest.mark.slow,
]

#: Fresh secrets per run, passed only through the environment (never on a command line).
SECRET = {
    name: f"{name}-{os.urandom(6).hex()}"
    for name in ("gateway", "backend", "grafana", "device", "owner", "admin_token", "influx_admin")
}
DASHBOARDS = sorted((REPO / "dashboards/grafana/dashboards").glob("*.json"))


def _state(page, space_id: str) -> str | None:
    return page.get_attribute(f'[data-space-id="{space_id}"]', "data-state", timeout=2000)


def _cli(bin_dir: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(bin_dir / "werkplek"), *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"werkplek {' '.join(args)}:\n{done.stderr[-3000:]}"
    return done.stdout


def _owned_database(cluster: PostgreSQL) -> str:
    admin = sa.create_engine(cluster.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE ROLE werkplek LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                             f"PASSWORD '{SECRET['owner']}'"))  # fmt: skip
        conn.execute(sa.text("CREATE DATABASE werkplek OWNER werkplek"))
    admin.dispose()
    return f"postgresql+psycopg://werkplek:{SECRET['owner']}@{cluster.host}:{cluster.port}/werkplek"


def _restart_postgres(cluster: PostgreSQL) -> None:
    assert cluster.bindir is not None
    data, logfile = str(cluster.workdir / "data"), str(cluster.workdir / "postgres.log")
    cluster._run([str(cluster.bindir / "pg_ctl"), "-D", data, "-m", "fast", "-w", "-l", logfile,
                  "restart"])  # fmt: skip


def _rows(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            return {
                t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in names
            }
    finally:
        engine.dispose()


def _points(influx: AuthInflux) -> int:
    answer = influx.query_as(
        "admin", SECRET["influx_admin"], 'SELECT count("occupied") FROM "raw"."presence"'
    )
    series = answer["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0


def test_the_deployed_stack_end_to_end(micropython_bin, page, tmp_path):
    log = StepLog()
    _, bin_dir = shared_install()
    log(f"wheel built and installed into a fresh venv ({bin_dir.parent})")

    cluster = PostgreSQL(workdir=make_tempdir("smoke-pg"))
    influx = AuthInflux(
        workdir=make_tempdir("smoke-influx"), admin=("admin", SECRET["influx_admin"])
    )
    broker: ConfiguredMosquitto | None = None
    services: list[Service] = []
    node: NodeProcess | None = None
    try:
        cluster.start()
        database_url = _owned_database(cluster)
        log("PostgreSQL up, database owned by the non-superuser 'werkplek'")
        influx.start()
        base_env = {
            "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
            "HOME": str(tmp_path),
            "LANG": "C.UTF-8",
        }
        influx_env = {
            **base_env,
            "WERKPLEK_INFLUX_URL": influx.url,
            "WERKPLEK_INFLUX_DATABASE": "werkplek",
            "WERKPLEK_INFLUX_ADMIN_USERNAME": "admin",
            "WERKPLEK_INFLUX_ADMIN_PASSWORD": SECRET["influx_admin"],
            "WERKPLEK_INFLUX_GATEWAY_PASSWORD": SECRET["gateway"],
            "WERKPLEK_INFLUX_BACKEND_PASSWORD": SECRET["backend"],
            "WERKPLEK_INFLUX_GRAFANA_PASSWORD": SECRET["grafana"],
        }
        _cli(bin_dir, influx_env, "influx", "init")
        log("InfluxDB up with auth, initialised by `werkplek influx init`")

        db_env = {**base_env, "WERKPLEK_DATABASE_URL": database_url}
        _cli(bin_dir, db_env, "schema", "upgrade", "head")
        _cli(bin_dir, db_env, "seed")
        signage_token = (
            _cli(bin_dir, db_env, "token", "create", "--role", "signage", "--name", "smoke")
            .strip()
            .splitlines()[-1]
        )
        engine = sa.create_engine(database_url)
        with engine.connect() as conn:
            desk = conn.execute(sa.text(
                "SELECT d.id, d.site_id, s.id AS space_id, s.floor_id FROM device d "
                "JOIN space s ON s.id = d.space_id WHERE s.kind = 'desk' ORDER BY d.id LIMIT 1"
            )).one()  # fmt: skip
            devices = conn.execute(sa.text("SELECT site_id, id FROM device")).all()
        engine.dispose()
        device_list = tmp_path / "devices.txt"
        device_list.write_text("".join(f"{site} {dev}\n" for site, dev in devices))
        acl_devices = tmp_path / "acl-devices"
        _cli(bin_dir, db_env, "broker-acl", "--devices", str(device_list), "-o", str(acl_devices))
        log(f"schema migrated; seeded; signage token and ACL of {len(devices)} devices made")

        broker = project_broker(
            {
                "passwd": {desk.id: SECRET["device"]},
                "passwd-services": {"gateway": SECRET["gateway"], "backend": SECRET["backend"]},
            },
            acl_devices.read_text(),
        )
        broker.start()
        service_port, device_port = broker.ports[1884], broker.ports[1883]
        log(
            f"Mosquitto up with deploy/mosquitto (services :{service_port}, devices :{device_port})"
        )

        http_port, metrics_port = free_port(), free_port()
        gateway = Service("gateway", [str(bin_dir / "werkplek"), "gateway"], {
            **base_env,
            "WERKPLEK_MQTT_URL": f"mqtt://gateway:{SECRET['gateway']}@127.0.0.1:{service_port}",
            "WERKPLEK_INFLUX_URL": influx.url,
            "WERKPLEK_INFLUX_DATABASE": "werkplek",
            "WERKPLEK_INFLUX_USERNAME": "gateway",
            "WERKPLEK_INFLUX_PASSWORD": SECRET["gateway"],
            "WERKPLEK_STATE_DIR": str(tmp_path / "gateway-state"),
            "WERKPLEK_METRICS_PORT": str(metrics_port),
        }, tmp_path / "gateway.log")  # fmt: skip
        backend = Service("backend", [str(bin_dir / "werkplek"), "backend"], {
            **base_env,
            "WERKPLEK_DATABASE_URL": database_url,
            "WERKPLEK_MQTT_URL": f"mqtt://backend:{SECRET['backend']}@127.0.0.1:{service_port}",
            "WERKPLEK_HTTP_HOST": "127.0.0.1",
            "WERKPLEK_HTTP_PORT": str(http_port),
            "WERKPLEK_BOOTSTRAP_ADMIN_TOKEN": SECRET["admin_token"],
            "WERKPLEK_INFLUX_URL": influx.url,
            "WERKPLEK_INFLUX_DATABASE": "werkplek",
            "WERKPLEK_INFLUX_USERNAME": "backend",
            "WERKPLEK_INFLUX_PASSWORD": SECRET["backend"],
        }, tmp_path / "backend.log")  # fmt: skip
        services = [gateway, backend]
        for service in services:
            service.start()
        base = f"http://127.0.0.1:{http_port}"

        def ready() -> bool:
            for service in services:
                assert service.alive(), f"{service.name} exited:\n{service.tail()}"
            try:
                health = httpx.get(f"{base}/healthz", timeout=2).json()
            except httpx.HTTPError:
                return False
            return bool(health.get("mqtt_connected")) and health.get("gateway") == "online"

        wait_until(ready, 60, what="backend connected and gateway online")
        log("gateway and backend run from the installed package; the gateway is online")

        presence = tmp_path / "presence"
        presence.write_text("0")
        node = NodeProcess(micropython_bin, {
            "device_id": desk.id, "site": desk.site_id, "broker_host": "127.0.0.1",
            "broker_port": device_port, "username": desk.id, "password": SECRET["device"],
            "source": "radar", "space_type": "desk", "confirm_ms": 300, "hold_ms": 3000,
            "heartbeat_s": 30, "backoff_max_ms": 1000, "presence_file": str(presence),
        }, tmp_path)  # fmt: skip
        node.wait_for_line("/status online", 20)
        log(f"MicroPython node {desk.id} online on the device listener")

        page.goto(
            f"{base}/signage/?site={desk.site_id}&floor={desk.floor_id}&token={signage_token}"
        )
        wait_until(lambda: _state(page, desk.space_id) == "free", 20, what="desk free on /signage/")
        presence.write_text("1")
        wait_until(
            lambda: _state(page, desk.space_id) == "occupied", 20, what="desk occupied on /signage/"
        )
        log("desk turned occupied on /signage/ in Chromium")

        for path in ("/app/", "/facility/"):
            answer = page.goto(f"{base}{path}")
            assert answer is not None and answer.status == 200, path
            page.wait_for_load_state("load")
            assert page.title(), f"{path} has no title"
        log("/app/ and /facility/ loaded")

        admin = {"Authorization": f"Bearer {SECRET['admin_token']}"}
        wait_until(lambda: _points(influx) >= 2, 20, what="presence points in InfluxDB")
        today = datetime.now(ZoneInfo("Europe/Amsterdam")).date().isoformat()  # the sites' day
        query = {"day": today, "min_minutes": 0}
        report = httpx.get(
            f"{base}/api/v1/facility/cleaning", params=query, headers=admin, timeout=30
        )
        assert report.status_code == 200, report.text
        assert desk.space_id in report.text, report.text[:2000]
        log("facility cleaning report answered with the desk in it")

        policies = influx.query_as("admin", SECRET["influx_admin"], "SHOW RETENTION POLICIES")
        names = {row[0] for row in policies["results"][0]["series"][0]["values"]}
        assert {"raw", "hourly"} <= names, names
        ran = 0
        for board in DASHBOARDS:
            for panel in json.loads(board.read_text())["panels"]:
                for target in panel.get("targets", []):
                    query = (
                        target["query"]
                        .replace("$timeFilter", "time > now() - 2h")
                        .replace("$__interval", "10m")
                    )
                    query = re.sub(r"\$(site|floor)\b", "(.*)", query)
                    result = influx.query_as("grafana", SECRET["grafana"], query)["results"][0]
                    assert "error" not in result, (board.name, panel["title"], result)
                    ran += 1
        assert ran >= 5
        log(f"retention policies {sorted(names)}; {ran} Grafana queries ran as the read-only user")

        # What Prometheus scrapes: every metric the alert rules name, healthy values.
        scraped = httpx.get(f"{base}/metrics", timeout=10).text
        scraped += httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
        rules = (REPO / "deploy/prometheus/alerts.yml").read_text()
        missing = set(re.findall(r"\b(werkplek_[a-z0-9_]+)", rules)) - set(
            re.findall(r"^(werkplek_[a-z0-9_]+)", scraped, re.M)
        )
        assert not missing, f"alert rules name metrics the services do not expose: {missing}"
        for healthy in (
            "werkplek_backend_mqtt_connected 1.0",
            "werkplek_backend_gateway_online 1.0",
            "werkplek_backend_history_reachable 1.0",
            'werkplek_backend_history_retention_policy{policy="raw"} 1.0',
            'werkplek_backend_history_retention_policy{policy="hourly"} 1.0',
            "werkplek_gateway_history_retention_ok 1.0",
            "werkplek_gateway_mqtt_connected 1.0",
        ):
            assert healthy in scraped, healthy
        log("/metrics of backend and gateway: every metric of the alert rules, all healthy")

        rows_before, points_before = _rows(database_url), _points(influx)
        for name, stop, start in (
            ("mosquitto", broker.stop, broker.start),
            ("influxdb", influx.stop, influx.start),
            ("postgresql", lambda: None, lambda: _restart_postgres(cluster)),
            ("gateway", gateway.stop, gateway.start),
            ("backend", backend.stop, backend.start),
        ):
            stop()
            start()
            log(f"{name} restarted")
        wait_until(ready, 60, what="stack ready again after the restarts")
        page.goto(
            f"{base}/signage/?site={desk.site_id}&floor={desk.floor_id}&token={signage_token}"
        )
        wait_until(
            lambda: _state(page, desk.space_id) == "occupied",
            30,
            what="desk still occupied after restarts",
        )
        presence.write_text("0")
        wait_until(
            lambda: _state(page, desk.space_id) == "free", 30, what="desk free after restarts"
        )
        rows_after = _rows(database_url)
        lost = {
            t: (n, rows_after.get(t, 0)) for t, n in rows_before.items() if rows_after.get(t, 0) < n
        }
        assert not lost, f"rows lost over the restarts (before, after): {lost}"
        wait_until(
            lambda: _points(influx) > points_before, 20, what="new points stored after restarts"
        )
        kept = sum(rows_before.values())
        log(f"after the restarts all {kept} database rows and {points_before} points kept; live")
        page.goto("about:blank")  # close the signage stream, so the backend stops at once
    finally:
        if node is not None:
            node.kill()
        for service in services:
            service.stop()
        if broker is not None:
            broker.stop()
        influx.stop()
        cluster.stop()
    total = time.monotonic() - log.start
    log(f"done in {total:.1f} s")
