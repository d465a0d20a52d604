"""Unit tests of the deduper, health tracker, spool, log budget and JSON logs."""

import json

import pytest

from contract import device_of_topic, health_topic
from gateway.dedupe import Deduper
from gateway.health import HealthTracker
from gateway.spool import Spool, decode_point, encode_point
from history.base import PresencePoint

DEV = ("hq", "d-1")


def test_a_new_message_passes_and_its_duplicate_is_acked_only_after_the_original():
    dedupe = Deduper()
    acks = []
    on_stored = dedupe.check(DEV, (7, 1, None), lambda: acks.append("original"))
    assert on_stored is not None
    assert dedupe.check(DEV, (7, 1, None), lambda: acks.append("copy")) is None
    assert acks == []  # the original is not stored yet: nobody is acked
    on_stored()
    assert acks == ["original", "copy"]
    # Once stored, a later copy is acked at once.
    assert dedupe.check(DEV, (7, 1, None), lambda: acks.append("late")) is None
    assert acks[-1] == "late"


def test_other_boot_other_device_or_other_seq_is_not_a_duplicate():
    dedupe = Deduper()
    assert dedupe.check(DEV, (7, 1, None), lambda: None)
    assert dedupe.check(DEV, (8, 1, None), lambda: None)
    assert dedupe.check(DEV, (7, 2, None), lambda: None)
    assert dedupe.check(("hq", "d-2"), (7, 1, None), lambda: None)
    # Without a boot id the device time is part of the key (seq restarts after a reboot).
    assert dedupe.check(DEV, (None, 1, 1000), lambda: None)
    assert dedupe.check(DEV, (None, 1, 2000), lambda: None)
    assert dedupe.check(DEV, (None, 1, 1000), lambda: None) is None


def test_memory_is_bounded_per_device():
    dedupe = Deduper(per_device=3)
    for seq in range(5):
        dedupe.check(DEV, (1, seq, None), lambda: None)()
    assert dedupe.check(DEV, (1, 0, None), lambda: None) is not None  # forgotten
    assert dedupe.check(DEV, (1, 4, None), lambda: None) is None
    with pytest.raises(ValueError):
        Deduper(per_device=0)


def test_health_counts_rate_errors_and_publishes_changed_records_once_per_interval():
    health = HealthTracker(interval_ms=30_000)
    t = 1_000_000
    for i in range(12):  # 12 messages in the first minute
        health.seen("hq", "d-1", t + i * 5000)
    health.error("hq", "d-1", "bad_json", t + 59_000)
    record = health.seen("hq", "d-1", t + 61_000)
    assert record.msg_per_min == 13
    assert (record.messages, record.errors, record.last_error) == (13, 1, "bad_json")
    due = health.due(t + 61_000)
    assert [r.device_id for r in due] == ["d-1"]
    assert health.due(t + 62_000) == []  # within the interval
    assert health.due(t + 100_000) == []  # nothing changed
    health.seen("hq", "d-1", t + 400_000)  # after a silent stretch the rate is not stale
    assert health.get("hq", "d-1").msg_per_min == 0
    body = json.loads(health.get("hq", "d-1").payload())
    assert body["v"] == 1 and body["device_id"] == "d-1" and body["errors"] == 1


def test_health_topics():
    assert health_topic("hq", "d-1") == "werkplek/v1/hq/_health/d-1"
    assert device_of_topic("werkplek/v1/hq/d-1/presence") == DEV
    assert device_of_topic("werkplek/v1/hq/_registry/d-1") is None
    assert device_of_topic("werkplek/v2/hq/d-1/presence") is None
    assert device_of_topic("werkplek/v1/HQ/d-1/presence") is None


def point(i, **kw):
    values = {"site": "hq", "device": "d-1", "time_ms": i, "occupied": True, "seq": i}
    values.update(boot=None, source="pir", clock_corrected=False)
    values.update(kw)
    return PresencePoint(**values)


def test_spool_is_a_durable_bounded_fifo(tmp_path):
    p = point(1, space="hq.1.d-1", kind="desk", floor="hq-1", zone="a", boot=3)
    assert decode_point(encode_point(p)) == p
    spool = Spool(tmp_path / "s.sqlite3", max_points=10, alarm_ratio=0.5)
    assert spool.alarm_at == 5
    assert spool.append([point(i) for i in range(8)]) == 0
    assert spool.append([point(i) for i in range(8, 12)]) == 2  # the two oldest go
    chunk = spool.peek(3)
    assert [pt.seq for _, pt in chunk] == [2, 3, 4]
    spool.remove_through(chunk[-1][0])
    assert len(spool) == 7
    spool.close()
    again = Spool(tmp_path / "s.sqlite3", max_points=10)
    assert len(again) == 7 and [pt.seq for _, pt in again.peek(100)] == list(range(5, 12))
    again.close()


def test_log_budget_holds_back_lines_beyond_the_budget_and_says_so(caplog):
    import logging

    from gateway.ratelimit import LogBudget

    clock = [1000.0]
    budget = LogBudget(3, logging.getLogger("test.budget"), "rejections", lambda: clock[0])
    assert [budget.allow() for _ in range(5)] == [True, True, True, False, False]
    clock[0] += 61
    with caplog.at_level(logging.WARNING):
        assert budget.allow()
    assert "2 rejections not logged" in caplog.text


def test_json_log_lines_are_one_object_each():
    import logging

    from gateway.logs import JsonFormatter

    record = logging.LogRecord(
        "gateway.app", logging.WARNING, "x.py", 1, "rejected %s", ("t",), None
    )
    body = json.loads(JsonFormatter().format(record))
    assert body["level"] == "WARNING" and body["message"] == "rejected t"
    assert body["logger"] == "gateway.app" and body["time"].endswith("Z")


def test_a_seq_going_back_starts_a_new_epoch_for_a_device_without_boot_or_clock():
    dedupe = Deduper()
    for seq in range(3):
        assert dedupe.follow_seq(DEV, seq) is False
        dedupe.check(DEV, (None, seq, None), lambda: None)()
    assert dedupe.follow_seq(DEV, 2) is False  # a redelivery of the last one
    assert dedupe.check(DEV, (None, 2, None), lambda: None) is None
    assert dedupe.follow_seq(DEV, 0) is True  # rebooted: the old keys are forgotten
    assert dedupe.check(DEV, (None, 0, None), lambda: None) is not None
    assert dedupe.follow_seq(DEV, 1) is False
    assert dedupe.check(DEV, (None, 1, None), lambda: None) is not None
    assert dedupe.follow_seq(("hq", "d-2"), 0) is False  # per device
