"""RegistrySettle without a broker: the registry file, holding and releasing."""

from __future__ import annotations

import json

from contract.registry import Assignment, RegistryMessage
from gateway import settle as settle_module
from gateway.settle import RegistrySettle


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def assignment(device, space="hq.1.d-1"):
    return Assignment("hq", device, space, "desk", "hq-1", None, 600)


def message(device, space="hq.1.d-1"):
    return RegistryMessage("hq", device, assignment(device, space), 0)


def test_the_registry_survives_a_restart_in_the_contracts_own_payloads(tmp_path):
    path = tmp_path / "registry-gw.json"
    first = RegistrySettle(path, 10)
    first.note(message("d-1"))
    first.note(message("d-2", "hq.1.d-2"))
    first.note(RegistryMessage("hq", "d-2", None, 0))  # unassigned again: forgotten
    first.save()
    body = json.loads(path.read_text())
    assert body["v"] == 1 and [e["device_id"] for e in body["registry"]] == ["d-1"]
    loaded = RegistrySettle(path, 10).load(now_ms=5)
    assert [m.assignment for m in loaded] == [assignment("d-1")]


def test_a_broken_file_or_entry_is_skipped_not_fatal(tmp_path):
    path = tmp_path / "registry-gw.json"
    assert RegistrySettle(path, 10).load(0) == []  # no file yet
    path.write_text("{not json")
    assert RegistrySettle(path, 10).load(0) == []
    good = {"v": 1, "device_id": "d-1", "site": "hq", "space_id": "hq.1.d-1", "kind": "desk"}
    good |= {"floor": "hq-1", "zone": None, "heartbeat_s": 600}
    path.write_text(json.dumps({"v": 1, "registry": [good, {**good, "kind": "sofa"}, 7]}))
    assert [m.device_id for m in RegistrySettle(path, 10).load(0)] == ["d-1"]


def test_unknown_devices_wait_while_settling_and_keep_their_order(tmp_path):
    clock = Clock()
    settle = RegistrySettle(tmp_path / "r.json", 10, clock)
    assert not settle.hold(("hq", "d-1"), False, "m0", None)  # not settling: stored at once
    settle.connected()
    assert not settle.hold(("hq", "d-2"), True, "m1", None)  # known device: never held
    assert settle.hold(("hq", "d-1"), False, "m2", None)
    assert settle.hold(("hq", "d-3"), False, "m3", None)
    assert settle.hold(("hq", "d-1"), False, "m4", None)
    assert settle.held() == 3
    assert [h.inbound for h in settle.release(("hq", "d-1"))] == ["m2", "m4"]
    assert not settle.expired()
    clock.now += 10
    assert settle.expired()
    settle.timed_out()
    assert not settle.settling
    assert [h.inbound for h in settle.release_all()] == ["m3"]


def test_past_the_bound_new_devices_are_not_held_but_held_ones_keep_waiting(tmp_path, monkeypatch):
    monkeypatch.setattr(settle_module, "MAX_HELD", 2)
    settle = RegistrySettle(tmp_path / "r.json", 10, Clock())
    settle.connected()
    assert settle.hold(("hq", "d-1"), False, "m1", None)
    assert settle.hold(("hq", "d-2"), False, "m2", None)
    assert not settle.hold(("hq", "d-3"), False, "m3", None)  # full: stored untagged
    assert settle.hold(("hq", "d-1"), False, "m4", None)  # d-1 keeps its order
    assert settle.held() == 3
    settle.release(("hq", "d-1"))
    assert settle.held() == 1
    assert settle.hold(("hq", "d-3"), False, "m5", None)


def test_a_device_with_messages_held_stays_in_order_even_once_known(tmp_path):
    settle = RegistrySettle(tmp_path / "r.json", 10, Clock())
    settle.connected()
    assert settle.hold(("hq", "d-1"), False, "m1", None)
    assert settle.hold(("hq", "d-1"), True, "m2", None)  # would overtake m1 otherwise


def test_remembered_devices_the_broker_no_longer_has_are_removed_at_the_sync(tmp_path):
    path = tmp_path / "r.json"
    before = RegistrySettle(path, 10)
    before.note(message("d-1"))
    before.note(message("d-2", "hq.1.d-2"))
    before.save()
    settle = RegistrySettle(path, 10, Clock())
    assert len(settle.load(0)) == 2
    settle.connected()
    settle.note(message("d-1"))  # the retained record came again
    gone = settle.synced()
    assert [(m.device_id, m.assignment) for m in gone] == [("d-2", None)]
    assert settle.synced() == []  # only once, after the first sync


def test_without_the_sync_marker_remembered_devices_are_kept(tmp_path):
    path = tmp_path / "r.json"
    before = RegistrySettle(path, 10)
    before.note(message("d-1"))
    before.save()
    clock = Clock()
    settle = RegistrySettle(path, 1, clock)
    settle.load(0)
    settle.connected()
    clock.now += 2
    assert settle.expired()
    settle.timed_out()  # no evidence against the file: d-1 stays
    settle.note(RegistryMessage("hq", "d-1", None, 0))
    settle.save()
    assert json.loads(path.read_text())["registry"] == []
