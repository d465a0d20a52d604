"""Remote configuration: validation, persistence, and the node applying or rejecting it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import remote_config
from hypothesis import given, settings
from hypothesis import strategies as st
from node import Node

from tests.firmware.fakes import FakeBroker

LOCAL = {"device_id": "d-0001", "site": "hq", "confirm_ms": 2000, "hold_ms": 600000}


def cfg_bytes(**fields: object) -> bytes:
    return json.dumps({"v": 1, **fields}).encode()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "bad_json"),
        (b"\xff\xfe", "bad_json"),
        (b"[1, 2]", "not_object"),
        (json.dumps({"v": 2, "hold_ms": 1000}).encode(), "bad_version"),
        (cfg_bytes(hold_ms="600000"), "bad_type"),
        (cfg_bytes(hold_ms=True), "bad_type"),
        (cfg_bytes(hold_ms=1.5), "bad_type"),
        (cfg_bytes(rev=-1), "bad_type"),
        (cfg_bytes(hold_ms=10), "out_of_range"),
        (cfg_bytes(radar_max_still_gate=9), "out_of_range"),
        (cfg_bytes(broker_host="evil.example"), "unknown_key"),
        (cfg_bytes(password="x"), "unknown_key"),
        (b" " * 1025, "too_large"),
    ],
)
def test_malformed_configs_are_rejected_with_a_reason(raw, reason):
    with pytest.raises(ValueError, match=f"^{reason}:"):
        remote_config.parse(raw)


def test_a_valid_config_is_parsed_and_checked_as_a_whole():
    rev, settings = remote_config.parse(cfg_bytes(rev=4, hold_ms=900000, heartbeat_s=30))
    assert (rev, settings) == (4, {"hold_ms": 900000, "heartbeat_s": 30})
    cfg = remote_config.merge(LOCAL, settings)
    assert (cfg["hold_ms"], cfg["heartbeat_s"], cfg["device_id"]) == (900000, 30, "d-0001")
    with pytest.raises(ValueError, match="confirm_ms must be below hold_ms"):
        remote_config.merge(LOCAL, {"confirm_ms": 5000, "hold_ms": 4000})


def test_handle_ignores_a_repeat_and_persists_atomically(tmp_path: Path):
    path = tmp_path / "remote.json"
    rc = remote_config.RemoteConfig(str(path))
    raw = cfg_bytes(rev=1, hold_ms=120000)
    status, rev, cfg, error = rc.handle(raw, LOCAL)
    assert (status, rev, cfg["hold_ms"], error) == ("applied", 1, 120000, None)
    assert rc.handle(raw, LOCAL) is None  # the retained copy after a reconnect
    rc.save(raw)
    assert path.read_bytes() == raw and not (tmp_path / "remote.json.tmp").exists()
    assert remote_config.RemoteConfig(str(path)).load() == raw
    verdict = rc.handle(b"{", LOCAL)
    assert verdict is not None and verdict[0] == "rejected" and rc.rev == 1
    assert rc.handle(b"", LOCAL)[0] == "cleared"
    rc.save(b"")
    assert not path.exists()


def _telemetry(broker: FakeBroker) -> list[dict]:
    out = []
    for pkt in broker.of_kind(3):
        tlen = int.from_bytes(pkt.body[:2], "big")
        topic = pkt.body[2 : 2 + tlen].decode()
        if topic.endswith("/telemetry"):
            start = 2 + tlen + (2 if pkt.first & 0x06 else 0)
            out.append(json.loads(pkt.body[start:]))
    return out


def test_node_applies_persists_and_reports_then_rejects_without_changing(tmp_path: Path):
    path = tmp_path / "remote.json"

    async def scenario() -> tuple[Node, FakeBroker, list[str]]:
        broker, log = FakeBroker(), []
        node = Node(
            {**LOCAL, "config_file": str(path), "poll_ms": 5},
            lambda: False,
            opener=broker.open,
            log=log.append,
        )
        task = asyncio.create_task(node.run())
        await asyncio.wait_for(node.client.up.wait(), 5)
        topic = node.topic_base + "config"
        node._on_message(topic, cfg_bytes(rev=3, hold_ms=120000, heartbeat_s=15), True)
        node._on_message(topic, cfg_bytes(rev=4, hold_ms="soon"), True)
        await asyncio.sleep(0.2)
        node.stop()
        await asyncio.wait_for(task, 5)
        return node, broker, log

    node, broker, log = asyncio.run(scenario())
    assert node.cfg["hold_ms"] == 120000 == node.machine.hold_ms and node.cfg["heartbeat_s"] == 15
    assert json.loads(path.read_bytes())["rev"] == 3  # the rejected one did not overwrite it
    reports = [t["config"] for t in _telemetry(broker) if "config" in t]
    assert reports[0] == {"status": "applied", "rev": 3}
    assert reports[1]["status"] == "rejected" and reports[1]["error"].startswith("bad_type:")
    assert any(line.startswith("CONFIG rejected") for line in log)
    first = _telemetry(broker)[0]
    assert {"uptime_s", "rssi", "heap_free", "fw", "battery_v"} <= set(first)

    # After a reboot without the broker's retained copy the saved config is in force.
    again = Node({**LOCAL, "config_file": str(path)}, lambda: False)
    assert again.cfg["hold_ms"] == 120000 and again.config_rev == 3


def test_a_corrupt_saved_config_is_ignored_at_boot(tmp_path: Path):
    path = tmp_path / "remote.json"
    path.write_bytes(b'{"v": 1, "hold_ms": "x"')
    node = Node({**LOCAL, "config_file": str(path)}, lambda: False)
    assert node.cfg["hold_ms"] == 600000 and node.config_report["status"] == "rejected"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    body=st.dictionaries(
        st.sampled_from([*remote_config.REMOTE_KEYS, "v", "rev", "x"]), json_values, max_size=6
    ),
    raw=st.binary(max_size=64),
)
def test_any_payload_is_either_a_valid_config_or_a_config_error(body, raw):
    valid_seen = 0
    for payload in (json.dumps(body).encode(), json.dumps({**body, "v": 1}).encode(), raw):
        try:
            rev, settings_ = remote_config.parse(payload)
        except remote_config.ConfigError as exc:
            assert str(exc).split(":")[0] in {
                "too_large",
                "bad_json",
                "not_object",
                "bad_version",
                "unknown_key",
                "bad_type",
                "out_of_range",
            }
            continue
        valid_seen += 1
        assert isinstance(rev, int) and rev >= 0
        for key, value in settings_.items():
            low, high = remote_config.REMOTE_KEYS[key]
            assert type(value) is int and low <= value <= high
    if not body or set(body) <= {"v"}:
        assert valid_seen >= 1  # {"v": 1} alone is a valid (empty) config
