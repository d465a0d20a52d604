"""Every query of the provisioned Grafana dashboards runs against a real InfluxDB.

Grafana cannot run here, so the test does what its InfluxQL data source does:
fill in ``$timeFilter``, ``$__interval`` and the template variables, then runs
each query on an InfluxDB seeded through the gateway's own history store
(presence and telemetry) and its own continuous queries (the hourly rollups).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from history.base import PresencePoint, TelemetryPoint
from history.influx import InfluxHistory

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BOARDS = sorted((REPO / "dashboards/grafana/dashboards").glob("*.json"))
DASHBOARDS = {path.stem: json.loads(path.read_text()) for path in BOARDS}
#: Every panel that asks InfluxDB something (rows only group panels).
PANELS = [
    (name, panel)
    for name, board in DASHBOARDS.items()
    for panel in board["panels"]
    if panel.get("targets")
]
#: Template variables, filled in as Grafana does for "All" (a regex alternation).
VARIABLES = {"site": "(hq)", "floor": "(hq-1|hq-2)"}
DEVICES = 6
#: Devices 4 and 5 stopped sending telemetry 40 minutes ago: offline.
SILENT = {"d-0004", "d-0005"}


def _render(query: str) -> str:
    """Replace Grafana's macros and variables the way its InfluxQL data source does."""
    rendered = query.replace("$timeFilter", "time > now() - 2h").replace("$__interval", "10m")
    for name, value in VARIABLES.items():
        rendered = rendered.replace(f"${name}", value)
    assert not re.search(r"\$\w", rendered), f"unknown macro left in {rendered!r}"
    return rendered


def _backfill_rollups(influx_db: Any) -> None:
    """Run the gateway's own continuous queries over the seeded hours.

    A CQ first runs at the next full hour; the test runs each CQ's SELECT INTO
    itself, taken from SHOW CONTINUOUS QUERIES, so the query is the gateway's.
    """
    answer = influx_db.query("SHOW CONTINUOUS QUERIES")["results"][0]
    rows = [row for s in answer["series"] if s["name"] == influx_db.database for row in s["values"]]
    assert {name for name, _ in rows} >= {"presence_hourly", "telemetry_hourly"}
    for _, create in rows:
        select = create.split(" BEGIN ", 1)[1].rsplit(" END", 1)[0]
        head, group = select.split(" GROUP BY ", 1)
        result = influx_db.query(f"{head} WHERE time > now() - 3h GROUP BY {group}")
        assert "error" not in result["results"][0], result


@pytest.fixture
def history(influx_db):
    store = InfluxHistory(influx_db.url, influx_db.database)
    store.ensure_schema()
    now = int(time.time() * 1000)
    floors = {i: f"hq-{1 + i % 2}" for i in range(DEVICES)}
    presence = [
        PresencePoint(
            site="hq",
            device=f"d-{i:04d}",
            time_ms=now - minute * 60_000,
            occupied=(i + minute) % 3 == 0,
            seq=minute,
            boot=1,
            source="radar",
            clock_corrected=False,
            space=f"hq.{1 + i % 2}.d-{i:03d}",
            kind="desk" if i < 4 else "meeting_room",
            floor=floors[i],
        )
        for i in range(DEVICES)
        for minute in range(0, 90, 5)
    ]
    telemetry = [
        TelemetryPoint(
            site="hq",
            device=f"d-{i:04d}",
            time_ms=now - minute * 60_000,
            uptime_s=10_000 - minute * 60,
            fw="1.4.0",
            rssi=-55 - 3 * i - minute % 7,
            heap_free=90_000 - minute,
            battery_v=3.1 - minute / 1000 if i % 2 else None,  # even devices are on mains
            space=f"hq.{1 + i % 2}.d-{i:03d}",
            floor=floors[i],
        )
        for i in range(DEVICES)
        for minute in range(40 if f"d-{i:04d}" in SILENT else 0, 90, 5)
    ]
    store.write_points([*presence, *telemetry])
    _backfill_rollups(influx_db)
    yield store
    store.close()


def _run(influx_db: Any, query: str) -> list[dict[str, Any]]:
    result = influx_db.query(_render(query))["results"][0]
    assert "error" not in result, result
    series: list[dict[str, Any]] = result.get("series") or []
    return series


@pytest.mark.parametrize("panel", [p for _, p in PANELS], ids=[f"{n}-{p['id']}" for n, p in PANELS])
def test_panel_query_returns_data(panel, history, influx_db):
    for target in panel["targets"]:
        series = _run(influx_db, target["query"])
        assert series, f"panel {panel['title']!r} returned nothing"
        values = [v for s in series for row in s["values"] for v in row[1:] if v is not None]
        assert any(v != 0 for v in values), f"panel {panel['title']!r} returned only empty buckets"
        if panel["fieldConfig"]["defaults"]["unit"] == "percentunit":
            # mean(occupied) is a share of time only because occupied is stored as 0/1.
            assert all(0 <= v <= 1 for v in values), values
            assert any(0 < v < 1 for v in values), values


def _panel(board: str, title_start: str) -> dict[str, Any]:
    matches = [p for p in DASHBOARDS[board]["panels"] if p["title"].startswith(title_start)]
    assert len(matches) == 1, title_start
    return matches[0]


def test_offline_sensors_are_counted_and_listed_first(history, influx_db):
    counts = _panel("health", "Sensoren die telemetrie sturen")
    seen, active = (_run(influx_db, t["query"])[0]["values"][0][1] for t in counts["targets"])
    assert (seen, active) == (DEVICES, DEVICES - len(SILENT))
    table = _panel("health", "Laatste bericht per sensor")
    rows = [
        (row[0], s["tags"]["device"])
        for s in _run(influx_db, table["targets"][0]["query"])
        for row in s["values"]
    ]
    oldest_first = [device for _, device in sorted(rows)]
    assert set(oldest_first[: len(SILENT)]) == SILENT


def test_battery_panel_shows_only_battery_nodes(history, influx_db):
    panel = _panel("health", "Batterijspanning")
    devices = {s["tags"]["device"] for s in _run(influx_db, panel["targets"][0]["query"])}
    assert devices == {f"d-{i:04d}" for i in range(DEVICES) if i % 2}


def test_live_occupancy_matches_latest_readings(history, influx_db):
    panel = _panel("occupancy", "Nu bezet per verdieping")
    shares = {
        s["tags"]["floor"]: s["values"][0][1] for s in _run(influx_db, panel["targets"][0]["query"])
    }
    # The latest reading of device i (minute 0) is occupied when i % 3 == 0.
    expected = {
        floor: sum(i % 3 == 0 for i in range(DEVICES) if f"hq-{1 + i % 2}" == floor) / 3
        for floor in ("hq-1", "hq-2")
    }
    assert shares == pytest.approx(expected)


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_variable_queries_list_the_seeded_values(name, history, influx_db):
    for variable in DASHBOARDS[name]["templating"]["list"]:
        result = influx_db.query(_render(variable["query"]))["results"][0]
        values = {value for _, value in result["series"][0]["values"]}
        assert values == ({"hq"} if variable["name"] == "site" else {"hq-1", "hq-2"})
