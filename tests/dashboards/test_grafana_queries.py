"""Every panel of the provisioned Grafana dashboard runs against a real InfluxDB."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gateway.history.base import PresencePoint
from gateway.history.influx import InfluxHistory

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = json.loads((REPO / "dashboards/grafana/dashboards/occupancy.json").read_text())


def _render(query: str) -> str:
    """Replace Grafana's macros the way its InfluxQL data source does."""
    return (
        query.replace("$timeFilter", "time > now() - 2h")
        .replace("$__interval", "10m")
        .replace("/^$site$/", "/^(hq)$/")
    )


@pytest.fixture
def history(influx_db):
    store = InfluxHistory(influx_db.url, influx_db.database)
    store.ensure_schema()
    now = int(time.time() * 1000)
    points = [
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
            floor=f"hq-{1 + i % 2}",
        )
        for i in range(6)
        for minute in range(0, 90, 5)
    ]
    store.write_points(points)
    yield store
    store.close()


@pytest.mark.parametrize("panel", DASHBOARD["panels"], ids=lambda p: str(p["id"]))
def test_panel_query_returns_data(panel, history, influx_db):
    for target in panel["targets"]:
        result = influx_db.query(_render(target["query"]))["results"][0]
        assert "error" not in result, result
        series = result.get("series") or []
        assert series, f"panel {panel['title']!r} returned nothing"
        values = [v for s in series for row in s["values"] for v in row[1:] if v is not None]
        assert values, f"panel {panel['title']!r} returned only empty buckets"
        if panel["fieldConfig"]["defaults"]["unit"] == "percentunit":
            # mean(occupied) is a share of time only because occupied is stored as 0/1.
            assert all(0 <= v <= 1 for v in values), values
            assert any(0 < v < 1 for v in values), values


def test_site_variable_query_lists_the_site(history, influx_db):
    query = DASHBOARD["templating"]["list"][0]["query"]
    result = influx_db.query(query)["results"][0]
    assert ["site", "hq"] in result["series"][0]["values"]
