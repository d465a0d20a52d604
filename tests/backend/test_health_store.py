"""Unit tests of the backend's health store: validation, problems, the null-not-zero rule."""

from __future__ import annotations

import json

import pytest

from backend.health.service import HealthStore, problems
from contract import ContractError as InvalidHealth
from contract.health import parse_health

T0 = 1_764_410_400_000
TOPIC = "werkplek/v1/hq/_health/d-0001"


def record(**fields) -> dict:
    body = {
        "v": 1,
        "site": "hq",
        "device_id": "d-0001",
        "space_id": "hq.1.d-001",
        "last_seen": T0,
        "online": True,
        "rssi": -58,
        "battery_v": None,
        "fw": "0.1.0",
        "uptime_s": 86400,
        "heap_free": 81234,
        "msg_per_min": 2,
        "messages": 1440,
        "errors": 0,
        "last_error": None,
        "clock_corrected": 0,
        "stale_after_s": 180,
    }
    body.update(fields)
    return body


def raw(**fields) -> bytes:
    return json.dumps(record(**fields)).encode()


def test_the_contract_example_is_accepted_and_nulls_stay_null():
    parsed = parse_health(TOPIC, raw(rssi=None, uptime_s=None, fw=None, heap_free=None))
    assert parsed is not None
    assert parsed.heap_free is None
    assert (parsed.rssi, parsed.battery_v, parsed.fw, parsed.uptime_s) == (None, None, None, None)
    assert parsed.stale_after_s == 180.0 and parsed.messages == 1440


def test_an_empty_retained_payload_clears_the_record():
    store = HealthStore(stale_after_s=180)
    store.on_message(TOPIC, raw())
    assert ("hq", "d-0001") in store.records
    store.on_message(TOPIC, b"")
    assert store.records == {} and store.accepted == 2


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("werkplek/v1/hq/d-0001/telemetry", raw(), "bad_topic"),
        ("werkplek/v1/HQ/_health/d-0001", raw(), "bad_topic"),
        (TOPIC, b"\xff\xfe", "bad_json"),
        (TOPIC, b"[1]", "not_object"),
        (TOPIC, b"x" * 2000, "too_large"),
        (TOPIC, raw(v=2), "bad_version"),
        (TOPIC, raw(device_id="d-0002"), "mismatch"),
        (TOPIC, raw(rssi="-58"), "bad_type"),
        (TOPIC, raw(online=1), "bad_type"),
        (TOPIC, raw(messages=True), "bad_type"),
        (TOPIC, raw(errors=-1), "out_of_range"),
        (TOPIC, raw(stale_after_s=0), "out_of_range"),
        (TOPIC, raw(space_id="_bad"), "out_of_range"),
        (
            TOPIC,
            json.dumps({"v": 1, "site": "hq", "device_id": "d-0001"}).encode(),
            "missing_field",
        ),
    ],
)
def test_malformed_messages_are_rejected_counted_and_do_not_replace_the_good_record(
    topic, payload, reason
):
    with pytest.raises(InvalidHealth) as caught:
        parse_health(topic, payload)
    assert caught.value.reason == reason
    store = HealthStore(stale_after_s=180)
    store.on_message(TOPIC, raw())
    store.on_message(topic, payload)
    assert store.rejected == {reason: 1}
    assert store.records[("hq", "d-0001")].rssi == -58


def judge(now_ms: int = T0 + 1000, **fields) -> list[str]:
    parsed = parse_health(TOPIC, raw(**fields))
    assert parsed is not None
    return problems(parsed, now_ms, default_stale_s=180)


def test_problems_offline_stale_low_battery_weak_signal_and_their_edges():
    assert judge() == []
    assert judge(online=False, battery_v=3.2) == ["offline", "low_battery"]
    assert judge(now_ms=T0 + 180_000) == []  # exactly at the limit: fresh
    assert judge(now_ms=T0 + 180_001) == ["stale"]
    assert judge(now_ms=T0 + 180_001, stale_after_s=10_800) == []  # a battery node's limit
    assert judge(last_seen=None) == ["stale"]  # never heard
    assert judge(battery_v=3.4) == [] and judge(battery_v=3.39) == ["low_battery"]
    assert judge(rssi=-80) == [] and judge(rssi=-81) == ["weak_signal"]
    assert judge(rssi=None, battery_v=None) == []  # unknown is not a problem, nor 0


def test_report_filters_by_site_and_names_the_worst_problem_in_dutch_and_english():
    store = HealthStore(stale_after_s=180)
    store.on_message(TOPIC, raw(rssi=-90, battery_v=3.1))
    other = "werkplek/v1/dorp-a/_health/r-0003"
    store.on_message(other, raw(site="dorp-a", device_id="r-0003", space_id=None))
    (row,) = store.report("hq", T0 + 1000)
    assert row["problems"] == ["low_battery", "weak_signal"]
    assert row["problem"] == "low_battery"
    assert (
        row["problem_nl"] == "Batterij bijna leeg" and row["problem_en"] == "Battery almost empty"
    )
    assert [r["device_id"] for r in store.report(None, T0 + 1000)] == ["r-0003", "d-0001"]
