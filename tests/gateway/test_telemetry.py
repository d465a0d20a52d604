"""Device telemetry is stored in its own InfluxDB measurement (real InfluxDB and Mosquitto)."""

import time
import uuid

import pytest

from contract import device_topic, registry_topic
from gateway import Gateway, GatewaySettings
from gateway.spool import decode_point, encode_point
from history.base import TelemetryPoint
from history.influx import telemetry_line
from tests.gateway.mqtt_helpers import TestClient
from tests.services import wait_until

SITE = "hq"


def rows(influx_db, q):
    result = influx_db.query(q)["results"][0]
    assert "error" not in result, result
    series = result.get("series") or []
    return [dict(zip(s["columns"], v, strict=True)) for s in series for v in s["values"]]


def test_telemetry_lines_leave_unknown_figures_out_and_escape_the_firmware_text():
    point = TelemetryPoint("hq", "d-1", 1764410400000, 60, 'v1 "b",x', rssi=None, heap_free=0)
    line = telemetry_line(point)
    assert line.startswith("telemetry,device=d-1,site=hq ")
    assert "rssi" not in line and "battery_v" not in line and "heap_free=0i" in line
    assert 'fw="v1 \\"b\\",x"' in line and line.endswith(" 1764410400000")
    spooled = TelemetryPoint("hq", "d-1", 1, 2, "0.1.0", -60, 9, 3.7, "hq.1.d-001", "hq-1")
    assert decode_point(encode_point(spooled)) == spooled


@pytest.mark.integration
def test_telemetry_reaches_influx_tagged_like_presence_with_nulls_omitted(
    tmp_path, mosquitto_factory, influx_db
):
    broker = mosquitto_factory()
    gateway = Gateway(
        GatewaySettings(
            mqtt_url=broker.url,
            gateway_id="gw-" + uuid.uuid4().hex[:8],
            state_dir=tmp_path / "state",
            influx_url=influx_db.url,
            influx_database=influx_db.database,
            batch_linger_ms=20,
        )
    )
    gateway.start()
    client = TestClient(broker)
    try:
        wait_until(gateway.connected.is_set, 5)
        registry = {"v": 1, "device_id": "d-1", "site": SITE, "space_id": "hq.1.d-001"}
        registry.update(kind="desk", floor="hq-1", zone="a", heartbeat_s=60)
        client.publish(registry_topic(SITE, "d-1"), registry, retain=True)
        wait_until(lambda: gateway.counters()["received.registry"] == 1, 5)
        full = {"v": 1, "uptime_s": 50, "rssi": -61, "heap_free": 9000, "fw": "0.2.0"}
        client.publish(device_topic(SITE, "d-1", "telemetry"), full | {"battery_v": 3.7}, qos=1)
        time.sleep(0.01)  # the receive time is the point's time: keep the two apart
        unknown = {"v": 1, "uptime_s": 51, "rssi": None, "heap_free": None, "fw": "0.2.0"}
        client.publish(device_topic(SITE, "d-2", "telemetry"), unknown, qos=1)
        took = wait_until(
            lambda: len(rows(influx_db, 'SELECT * FROM "telemetry"')) == 2, 10, what="stored"
        )
        print(f"telemetry in InfluxDB {took * 1000:.0f} ms after publishing")
        got = {r["device"]: r for r in rows(influx_db, 'SELECT * FROM "telemetry"')}
        assert got["d-1"] | {"time": 0} == {
            "time": 0,
            "battery_v": 3.7,
            "device": "d-1",
            "floor": "hq-1",
            "fw": "0.2.0",
            "heap_free": 9000,
            "rssi": -61,
            "site": SITE,
            "space": "hq.1.d-001",
            "uptime_s": 50,
        }
        # An unassigned device: no space tags; unknown figures are absent, never 0.
        assert (got["d-2"]["space"], got["d-2"]["rssi"], got["d-2"]["heap_free"]) == (
            None,
            None,
            None,
        )
        assert got["d-2"]["battery_v"] is None and got["d-2"]["uptime_s"] == 51
        keys = rows(influx_db, 'SHOW TAG KEYS FROM "telemetry"')
        assert {k["tagKey"] for k in keys} == {"device", "floor", "site", "space"}
        # The hourly rollup (the continuous query's own statement) works on these points.
        cqs = influx_db.query("SHOW CONTINUOUS QUERIES")["results"][0]["series"]
        (ours,) = [s for s in cqs if s["name"] == influx_db.database]
        text = dict(ours["values"])["telemetry_hourly"]
        select = text[text.index("BEGIN ") + 6 : text.rindex(" END")]
        since = int(time.time() * 1000) - 60_000  # each device has one point in there
        select = select.replace(" GROUP BY", f" WHERE time >= {since}ms GROUP BY")
        rows(influx_db, select)
        hourly = {
            r["device"]: r for r in rows(influx_db, 'SELECT * FROM "hourly"."telemetry_hourly"')
        }
        assert (hourly["d-1"]["rssi_min"], hourly["d-1"]["reports"]) == (-61, 1)
        assert hourly["d-2"]["rssi_min"] is None and hourly["d-2"]["reports"] == 1
    finally:
        client.close()
        gateway.stop()
