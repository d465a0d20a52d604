import sqlite3

import pytest

from gateway.deadletter import DeadLetter, DeadLetterStore


def letter(i):
    return DeadLetter(
        1000 + i, f"werkplek/v1/hq/d-{i:04d}/presence", "bad_json", "x", bytes([i % 256])
    )


def test_keeps_raw_bytes_and_lists_newest_first(tmp_path):
    store = DeadLetterStore(tmp_path / "dl.sqlite3")
    store.add(DeadLetter(1, "t", "bad_json", "not JSON", b"\xff\xfe\x00"))
    store.add(letter(2))
    got = store.recent(10)
    assert got[1] == DeadLetter(1, "t", "bad_json", "not JSON", b"\xff\xfe\x00")
    assert got[0] == letter(2)
    assert store.recent(1) == [letter(2)]


def test_is_bounded_and_prunes_the_oldest(tmp_path):
    store = DeadLetterStore(tmp_path / "dl.sqlite3", max_rows=50)
    for i in range(120):
        store.add(letter(i))
    assert store.count() == 50
    assert [d.received_ms for d in store.recent(1000)] == [1000 + i for i in range(119, 69, -1)]


def test_file_is_readable_by_another_process(tmp_path):
    path = tmp_path / "dl.sqlite3"
    store = DeadLetterStore(path)
    store.add(letter(1))
    rows = sqlite3.connect(path).execute("SELECT topic, reason FROM dead_letter").fetchall()
    assert rows == [("werkplek/v1/hq/d-0001/presence", "bad_json")]


def test_cap_must_be_positive(tmp_path):
    with pytest.raises(ValueError):
        DeadLetterStore(tmp_path / "dl.sqlite3", max_rows=0)
