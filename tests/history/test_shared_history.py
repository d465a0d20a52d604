"""The shared history package: one settings object, one InfluxDB client, a read-only reader.

Unit tests need no server; the InfluxDB ones talk to the session's real InfluxDB 1.x.
"""

import ast
import sqlite3
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from backend.config import Settings
from backend.health.status import probe_history as health_probe
from backend.metrics import probe_history as metrics_probe
from backend.privacy.report import influx_policies
from gateway.settings import GatewaySettings
from history.base import PresencePoint
from history.errors import HistoryUnavailable
from history.influx import InfluxHistory
from history.influx_client import InfluxClient, influx_ident, quote_influxql
from history.retention import check_retention
from history.settings import HistorySettings
from history.sqlite import SqliteHistory, SqliteReader
from tests.services import free_port

REPO = Path(__file__).resolve().parents[2]
DAY_MS = 86_400_000
T0 = 1_764_410_400_000


def _point(time_ms: int, device: str = "n-1", occupied: bool = True) -> PresencePoint:
    return PresencePoint(
        site="hq", device=device, time_ms=time_ms, occupied=occupied, seq=1, boot=1,
        source="pir", clock_corrected=False, space="d-1", kind="desk", floor="f1", zone="z1",
    )  # fmt: skip


# --- one settings object ---


@pytest.mark.parametrize("cls", [GatewaySettings, Settings])
@pytest.mark.parametrize(
    "values, problem",
    [
        ({"influx_url": "ftp://influx:8086"}, "must be an http"),
        ({"influx_username": "backend"}, "go together"),
        ({"influx_token": "t", "influx_username": "u", "influx_password": "p"}, "not both"),
        ({"raw_retention_days": -1}, "greater than or equal"),
    ],
)
def test_both_services_refuse_the_same_bad_history_settings(cls, values, problem):
    with pytest.raises(ValidationError, match=problem):
        cls(**values)


def test_both_services_read_the_same_variables(monkeypatch):
    monkeypatch.setenv("WERKPLEK_INFLUX_URL", "http://influx.example:8086/")
    monkeypatch.setenv("WERKPLEK_INFLUX_DATABASE", "gebouw")
    monkeypatch.setenv("WERKPLEK_INFLUX_TOKEN", "geheim")
    monkeypatch.setenv("WERKPLEK_RAW_RETENTION_DAYS", "7")
    for cfg in (GatewaySettings(), Settings(), HistorySettings()):
        assert isinstance(cfg, HistorySettings)
        assert cfg.influx_url == "http://influx.example:8086"  # trailing slash gone
        assert cfg.influx_database == "gebouw" and cfg.raw_retention_days == 7
        assert cfg.influx_token is not None and cfg.influx_token.get_secret_value() == "geheim"
        assert "geheim" not in repr(cfg)


def test_the_settings_an_app_is_given_decide_where_reports_read(tmp_path, monkeypatch):
    """Not a process-wide cache: two settings objects, two different stores."""
    monkeypatch.delenv("WERKPLEK_INFLUX_URL", raising=False)
    present = tmp_path / "history.sqlite3"
    SqliteHistory(present).ensure_schema()
    here, _ = health_probe(Settings(history_path=present))
    missing, retention = health_probe(Settings(history_path=tmp_path / "nowhere.sqlite3"))
    assert here["configured"] and here["reachable"] and str(present) in here["reason"]
    assert not missing["configured"] and retention.ok is None


# --- the read side never writes ---


def test_the_sqlite_reader_creates_nothing(tmp_path):
    path = tmp_path / "sub" / "history.sqlite3"
    with pytest.raises(HistoryUnavailable, match="no history store configured"):
        SqliteReader(path).query_presence(start_ms=0, end_ms=T0)
    assert not path.exists() and not path.parent.exists()


def test_the_sqlite_reader_reads_without_maintaining(tmp_path):
    """The writer would prune these old points on its first maintenance; the reader never does."""
    path = tmp_path / "history.sqlite3"
    writer = SqliteHistory(path, raw_retention_days=1, maintain_every_s=1e12)
    writer.ensure_schema()
    writer._next_maintain = float("inf")  # keep this test's writer from maintaining, too
    old = [_point(T0 + i * 60_000, occupied=i % 2 == 0) for i in range(5)]
    writer.write_points(old)
    writer.close()
    before = path.read_bytes()
    got = SqliteReader(path).query_presence(start_ms=T0, end_ms=T0 + DAY_MS)
    assert got == old
    assert SqliteReader(path).query_presence(start_ms=T0, end_ms=T0 + DAY_MS, device="x") == []
    assert path.read_bytes() == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM presence_hourly").fetchone() == (0,)


# --- quoting ---


def test_quoting_escapes_what_would_end_a_name_or_string():
    assert influx_ident('we"ird\\db') == '"we\\"ird\\\\db"'
    assert quote_influxql("it's") == "'it\\'s'"


# --- the one InfluxDB client, against a real server ---


@pytest.mark.integration
def test_the_three_readers_of_retention_policies_agree(influx_db):
    cfg = Settings(influx_url=influx_db.url, influx_database=influx_db.database)
    store = InfluxHistory(
        influx_db.url, influx_db.database, raw_retention_days=30, hourly_retention_days=1825
    )
    store.ensure_schema()
    store.close()
    with InfluxClient.from_settings(cfg) as client:
        policies = client.retention_policies()
        assert policies.error is None and policies.version.startswith("1.")
        assert {"raw", "hourly"} <= policies.names
        assert check_retention(client, 30, 1825).ok is True
    reachable, present = metrics_probe(cfg)
    assert reachable and present == {"raw": True, "hourly": True}
    history, retention = health_probe(cfg)
    assert history["reachable"] and retention.ok is True
    report = influx_policies(cfg)
    assert {p["name"] for p in report["policies"]} == policies.names


@pytest.mark.integration
def test_an_odd_database_name_is_quoted_everywhere(influx_db):
    """A space, a dot and a hyphen: unquoted, InfluxQL would not parse any statement."""
    name = f"{influx_db.database} werk-plek.1"
    store = InfluxHistory(influx_db.url, name, raw_retention_days=30)
    try:
        store.ensure_schema()
        assert store.schema_problems == [] and store.retention.ok is True
        now = int(time.time() * 1000)  # inside the 30-day raw retention
        store.write_points([_point(now)])
        assert store.query_presence(start_ms=now, end_ms=now + 1) == [_point(now)]
    finally:
        store.close()
        with InfluxClient(influx_db.url, name) as client:
            assert client.statement(f"DROP DATABASE {influx_ident(name)}") is None


@pytest.mark.integration
def test_refusals_and_silence_are_told_apart(influx_db):
    with InfluxClient(influx_db.url, influx_db.database) as client:
        with pytest.raises(HistoryUnavailable, match="refused the query.*retention policy"):
            client.query('SELECT * FROM "nosuchpolicy"."presence"')
        assert client.statement("THIS IS NOT INFLUXQL") is not None
    silent = InfluxClient(f"http://127.0.0.1:{free_port()}", "x", timeout_s=2)
    with silent:
        with pytest.raises(HistoryUnavailable, match="unreachable"):
            silent.query("SHOW MEASUREMENTS")
        read = silent.retention_policies()
        assert not read.reachable and read.error and read.rows == ()
        assert check_retention(silent, 30, 0).ok is None
        assert silent.version() is None


# --- the layers ---


def _imports(package: str) -> set[str]:
    found: set[str] = set()
    for source in (REPO / package).rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
    return found


def test_neither_service_imports_the_other_and_history_imports_neither():
    assert "gateway" not in _imports("backend")
    assert "backend" not in _imports("gateway")
    assert not {"backend", "gateway", "werkplek"} & _imports("history")
