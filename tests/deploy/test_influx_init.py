"""``werkplek influx init`` against a real InfluxDB 1.6 with auth on, and what uses its users."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from backend.facility.settings import FacilitySettings
from backend.health.status import probe_history
from gateway.app import Gateway
from gateway.metrics import GatewayMetrics
from gateway.settings import GatewaySettings
from gateway.status import RetentionWatch
from history.base import PresencePoint
from history.influx import InfluxHistory
from tests.deploy.conftest import ADMIN
from tests.services import InfluxDB, wait_until
from werkplek.influx_init import InfluxInit, InfluxInitSettings, v2_instructions

# One worker builds the auth-enabled InfluxDB once (make test runs --dist loadgroup).
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("influxdb-auth")]

REPO = Path(__file__).resolve().parents[2]
DAY_MS = 86_400_000
USERS = {"gateway": "gw-secret", "backend": "be-secret", "grafana": "gf-secret"}


def init_env(database: str, server: InfluxDB, raw_days: int = 30) -> dict[str, str]:
    return {
        "WERKPLEK_INFLUX_URL": server.url,
        "WERKPLEK_INFLUX_DATABASE": database,
        "WERKPLEK_INFLUX_ADMIN_USERNAME": ADMIN[0],
        "WERKPLEK_INFLUX_ADMIN_PASSWORD": ADMIN[1],
        "WERKPLEK_RAW_RETENTION_DAYS": str(raw_days),
        "WERKPLEK_HOURLY_RETENTION_DAYS": "1825",
        **{f"WERKPLEK_INFLUX_{name.upper()}_PASSWORD": pw for name, pw in USERS.items()},
    }


def run_init(database: str, server: InfluxDB, raw_days: int = 30) -> list[str]:
    settings = InfluxInitSettings(
        **{
            k.removeprefix("WERKPLEK_").lower(): v
            for k, v in init_env(database, server, raw_days).items()
        }
    )
    init = InfluxInit(settings)
    try:
        return init.run()
    finally:
        init.close()


def rows(server: InfluxDB, q: str) -> list[list[object]]:
    result = server.query(q)["results"][0]
    assert "error" not in result, result
    series = result.get("series") or []
    return sorted(v for s in series for v in ([s.get("name"), *row] for row in s["values"]))


def schema(server: InfluxDB, database: str) -> dict[str, object]:
    return {
        "policies": rows(server, f'SHOW RETENTION POLICIES ON "{database}"'),
        "queries": [r for r in rows(server, "SHOW CONTINUOUS QUERIES") if r[0] == database],
        "users": [r for r in rows(server, "SHOW USERS") if r[1] in USERS],
        "grants": {user: rows(server, f'SHOW GRANTS FOR "{user}"') for user in USERS},
    }


def point(time_ms: int, seq: int) -> PresencePoint:
    return PresencePoint(
        site="hq", device="d-1", time_ms=time_ms, occupied=True, seq=seq, boot=1,
        source="radar", clock_corrected=False, space="hq.1.d-001", kind="desk", floor="hq-1",
    )  # fmt: skip


def as_user(server: InfluxDB, database: str, user: str) -> InfluxHistory:
    # The retention a gateway is configured with by default (GatewaySettings).
    return InfluxHistory(
        server.url, database, username=user, password=USERS[user],
        raw_retention_days=30, hourly_retention_days=1825,
    )  # fmt: skip


@pytest.fixture
def database(influxdb_auth: InfluxDB):
    name = "w_" + uuid.uuid4().hex[:10]
    yield name
    influxdb_auth.query(f'DROP DATABASE "{name}"')


def test_init_twice_gives_the_same_schema_and_least_privilege_users(influxdb_auth, database):
    done = run_init(database, influxdb_auth)
    first = schema(influxdb_auth, database)
    env = {**os.environ, **init_env(database, influxdb_auth)}
    again = subprocess.run(
        [sys.executable, "-m", "werkplek", "influx", "init"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert schema(influxdb_auth, database) == first
    assert len(done) == 6 and "user grafana: READ on" in done[-1]
    assert "ok  user gateway: READ and WRITE" in again.stdout
    assert all(secret not in again.stdout + again.stderr for secret in USERS.values())

    policies = {r[1]: r for r in first["policies"]}
    assert policies["raw"][2] == "720h0m0s" and policies["raw"][5] is True  # default
    assert policies["hourly"][2] == "43800h0m0s"
    assert policies["facility"][2] == "0s"
    assert {r[1] for r in first["queries"]} == {"presence_hourly", "telemetry_hourly"}
    assert all(admin is False for _, _, admin in first["users"])
    grants = {user: {tuple(g[1:]) for g in got} for user, got in first["grants"].items()}
    assert grants == {
        "gateway": {(database, "ALL PRIVILEGES")},
        "backend": {(database, "ALL PRIVILEGES")},
        "grafana": {(database, "READ")},
    }


def test_a_wrong_admin_password_is_a_clear_error(influxdb_auth, database):
    env = {**os.environ, **init_env(database, influxdb_auth)}
    env["WERKPLEK_INFLUX_ADMIN_PASSWORD"] = "wrong"
    result = subprocess.run(
        [sys.executable, "-m", "werkplek", "influx", "init"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "admin credential was refused" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_gateway_user_writes_and_reads_and_sees_retention_in_place(
    influxdb_auth, database, mosquitto, tmp_path
):
    run_init(database, influxdb_auth)
    store = as_user(influxdb_auth, database, "gateway")
    store.ensure_schema()  # refused (no admin), then checked
    assert any("admin privilege" in p for p in store.schema_problems)
    assert store.retention.ok is True, store.retention.reason
    now = int(time.time() * 1000)
    store.write_points([point(now, 1)])
    assert [p.seq for p in store.query_presence(start_ms=now - 1000, end_ms=now + 1000)] == [1]
    store.close()

    grafana = as_user(influxdb_auth, database, "grafana")
    with pytest.raises(Exception, match="not authorized|HTTP 403"):
        grafana.write_points([point(now, 2)])
    grafana.close()

    settings = GatewaySettings(
        mqtt_url=mosquitto.url, gateway_id="gw-" + uuid.uuid4().hex[:6],
        state_dir=tmp_path / "state", influx_url=influxdb_auth.url, influx_database=database,
        influx_username="gateway", influx_password=USERS["gateway"],
    )  # fmt: skip
    gateway = Gateway(settings)
    gateway.start()
    try:

        def ready() -> bool:
            status = gateway.status()
            return status["retention"]["ok"] is True and status["mqtt"]["connected"]

        wait_until(ready, 30, what="gateway connected with retention checked")
        status = gateway.status()
        assert status["history"]["reachable"] is True and status["mqtt"]["down_since"] is None
    finally:
        gateway.stop()

    backend = probe_history(
        FacilitySettings(
            influx_url=influxdb_auth.url,
            influx_database=database,
            influx_username="backend",
            influx_password=USERS["backend"],
        )  # fmt: skip
    )
    assert backend[0]["reachable"] is True and backend[1].ok is True


def test_missing_retention_policies_are_reported_loudly(influxdb_auth, database, caplog):
    # The state the issue found: database and a write user, but nobody ran `influx init`.
    influxdb_auth.query(f'CREATE DATABASE "{database}"')
    influxdb_auth.query(f"CREATE USER \"gateway\" WITH PASSWORD '{USERS['gateway']}'")
    influxdb_auth.query(f'GRANT ALL ON "{database}" TO "gateway"')
    store = as_user(influxdb_auth, database, "gateway")
    metrics = GatewayMetrics()
    with caplog.at_level(logging.ERROR):
        store.ensure_schema()
        watch = RetentionWatch(store, metrics, interval_s=3600)
        watch.start()
        wait_until(
            lambda: metrics.registry.get_sample_value("werkplek_gateway_history_retention_ok")
            == 0.0,
            10, what="metric says retention is missing",
        )  # fmt: skip
        watch.stop()
    store.close()
    assert store.retention.ok is False
    assert "'raw' missing" in store.retention.reason and "autogen" in store.retention.reason
    assert "werkplek influx init" in store.retention.reason
    assert any("retention not in place" in r.getMessage() for r in caplog.records)

    # The backend, with the same users, says the same in /healthz terms.
    history, retention = probe_history(
        FacilitySettings(
            influx_url=influxdb_auth.url,
            influx_database=database,
            influx_username="gateway",
            influx_password=USERS["gateway"],
        )  # fmt: skip
    )
    assert history["reachable"] is True and retention.ok is False


def test_a_shortened_raw_retention_removes_older_presence(influxdb_auth, database):
    run_init(database, influxdb_auth, raw_days=30)
    store = as_user(influxdb_auth, database, "gateway")
    now = int(time.time() * 1000)
    store.write_points([point(now - 3 * DAY_MS, 1), point(now, 2)])
    seen = store.query_presence(start_ms=now - 4 * DAY_MS, end_ms=now + 1000)
    assert [p.seq for p in seen] == [1, 2]

    run_init(database, influxdb_auth, raw_days=1)  # the operator shortens it to a day

    def old_point_gone() -> bool:
        got = store.query_presence(start_ms=now - 4 * DAY_MS, end_ms=now + 1000)
        return [p.seq for p in got] == [2]

    wait_until(old_point_gone, 60, interval=0.5, what="InfluxDB enforcing the 1-day retention")
    store.close()


def test_influxdb_2_and_3_get_instructions_instead_of_changes():
    def v2(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/ping"  # nothing else is attempted
        return httpx.Response(204, headers={"X-Influxdb-Version": "v2.7.10"})

    init = InfluxInit(InfluxInitSettings(), transport=httpx.MockTransport(v2))
    assert init.version() == "v2.7.10"
    text = v2_instructions("v2.7.10", InfluxInitSettings(raw_retention_days=30))
    assert "influx bucket create --name werkplek --retention 30d" in text
    assert "dbrp" in text and "WERKPLEK_INFLUX_TOKEN" in text
