"""Facility reports in production: missing or unready history is a 503, never empty advice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from tests.backend.conftest import SeededDb
from tests.services import InfluxDB

PERIOD = "start=2026-11-02&end=2026-11-27"
REPORTS = (
    f"consolidation?{PERIOD}&level=floor",
    f"utilisation?{PERIOD}&level=floor",
    f"trend?{PERIOD}&level=floor",
    f"booked-vs-used?{PERIOD}",
)


@pytest.fixture
def history_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """History settings from the environment: each app reads them into its own settings."""
    for name in ("INFLUX_URL", "INFLUX_USERNAME", "INFLUX_PASSWORD", "INFLUX_TOKEN"):
        monkeypatch.delenv(f"WERKPLEK_{name}", raising=False)
    yield monkeypatch


def get(db: SeededDb, path: str) -> tuple[int, dict[str, object], dict[str, str]]:
    with TestClient(create_app(db.settings())) as client:
        response = client.get(
            f"/api/v1/facility/{path}", headers={"Authorization": f"Bearer {db.admin_token}"}
        )
        return response.status_code, response.json(), dict(response.headers)


def test_without_a_history_store_every_report_is_a_503_with_the_reason(
    seeded, history_env, tmp_path, caplog
):
    history_env.setenv("WERKPLEK_HISTORY_PATH", str(tmp_path / "no-such.sqlite3"))
    for report in REPORTS:
        caplog.clear()
        status, body, headers = get(seeded, report)
        assert status == 503, (report, body)
        assert headers["content-type"] == "application/problem+json"
        assert body["reason"] == "history_unavailable" and body["detail"]
        # The cause (with a file path) goes to the operator's log, not to the client.
        logged = " ".join(r.getMessage() for r in caplog.records)
        assert "no history store configured" in logged and "WERKPLEK_INFLUX_URL" in logged
        assert str(tmp_path) not in str(body)


def test_an_unreachable_influxdb_is_a_503(seeded, history_env):
    from tests.services import free_port

    history_env.setenv("WERKPLEK_INFLUX_URL", f"http://127.0.0.1:{free_port()}")
    status, body, _ = get(seeded, REPORTS[0])
    assert status == 503 and body["reason"] == "history_unavailable", body


@pytest.mark.integration
@pytest.mark.xdist_group("influxdb-auth")  # with test_influx_init: one auth-enabled server
def test_influxdb_without_the_rollup_policy_gives_no_empty_advice(
    seeded, history_env, influxdb_auth: InfluxDB, caplog
):
    # A database and a read+write backend user, but `werkplek influx init` never ran.
    database = "w_" + uuid.uuid4().hex[:10]
    influxdb_auth.query(f'CREATE DATABASE "{database}"')
    influxdb_auth.query("CREATE USER \"backend\" WITH PASSWORD 'be-secret'")
    influxdb_auth.query(f'GRANT ALL ON "{database}" TO "backend"')
    history_env.setenv("WERKPLEK_INFLUX_URL", influxdb_auth.url)
    history_env.setenv("WERKPLEK_INFLUX_DATABASE", database)
    history_env.setenv("WERKPLEK_INFLUX_USERNAME", "backend")
    history_env.setenv("WERKPLEK_INFLUX_PASSWORD", "be-secret")
    try:
        status, body, _ = get(seeded, REPORTS[0])
        assert status == 503 and body["reason"] == "history_unavailable", body
        assert "run `werkplek influx init`" in caplog.text
        # A wrong password is unavailable too, not an empty report.
        history_env.setenv("WERKPLEK_INFLUX_PASSWORD", "wrong")  # the next app's settings
        status, body, _ = get(seeded, REPORTS[0])
        assert status == 503 and body["reason"] == "history_unavailable", body
    finally:
        influxdb_auth.query(f'DROP DATABASE "{database}"')
        influxdb_auth.query('DROP USER "backend"')
