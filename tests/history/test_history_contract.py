"""One contract suite, run against both HistoryStore implementations."""

import pytest

from history import InfluxHistory, SqliteHistory
from history.base import PresencePoint

T0 = 1_764_410_400_000


@pytest.fixture(params=["sqlite", pytest.param("influx", marks=pytest.mark.integration)])
def history(request, tmp_path):
    if request.param == "sqlite":
        # T0 lies in the past; retention has its own tests (test_retention.py).
        store = SqliteHistory(tmp_path / "history.sqlite3", raw_retention_days=0)
    else:
        db = request.getfixturevalue("influx_db")
        store = InfluxHistory(db.url, db.database, raw_retention_days=0)
    store.ensure_schema()
    yield store
    store.close()


def pt(device="d-0001", t=T0, occupied=True, seq=1, **kw):
    base = {
        "site": "hq",
        "device": device,
        "time_ms": t,
        "occupied": occupied,
        "seq": seq,
        "boot": 42,
        "source": "radar",
        "clock_corrected": False,
        "space": "hq.1.d-001",
        "kind": "desk",
        "floor": "hq-1",
    }
    base.update(kw)
    return PresencePoint(**base)


def test_written_points_come_back_unchanged(history):
    points = [pt(t=T0 + i * 1000, occupied=i % 2 == 0, seq=i) for i in range(5)]
    history.write_points(points)
    assert history.query_presence(device="d-0001", start_ms=T0, end_ms=T0 + 10_000) == points


def test_time_range_is_half_open(history):
    history.write_points([pt(t=T0), pt(t=T0 + 1000, seq=2), pt(t=T0 + 2000, seq=3)])
    got = history.query_presence(device="d-0001", start_ms=T0 + 1000, end_ms=T0 + 2000)
    assert [p.time_ms for p in got] == [T0 + 1000]


def test_rewrite_of_same_device_and_ts_is_idempotent(history):
    history.write_points([pt(occupied=True, seq=1)])
    history.write_points([pt(occupied=True, seq=1)])
    history.write_points([pt(occupied=False, seq=1, clock_corrected=True)])
    got = history.query_presence(device="d-0001", start_ms=T0 - 1, end_ms=T0 + 1)
    assert got == [pt(occupied=False, seq=1, clock_corrected=True)]


def test_query_by_space_covers_every_device_of_the_space(history):
    history.write_points(
        [
            pt("d-0001", T0),
            pt("d-0002", T0 + 10, occupied=False),
            pt("d-0003", T0 + 20, space="hq.1.d-002"),
        ]
    )
    got = history.query_presence(space="hq.1.d-001", start_ms=T0, end_ms=T0 + 100)
    assert [(p.device, p.occupied) for p in got] == [("d-0001", True), ("d-0002", False)]


def test_unknown_tags_and_boot_are_optional(history):
    bare = pt(boot=None, space=None, kind=None, floor=None, clock_corrected=True)
    history.write_points([bare])
    assert history.query_presence(device="d-0001", start_ms=T0, end_ms=T0 + 1) == [bare]


def test_large_batch(history):
    points = [pt(t=T0 + i, seq=i) for i in range(2000)]
    history.write_points(points)
    got = history.query_presence(device="d-0001", start_ms=T0, end_ms=T0 + 5000)
    assert len(got) == 2000 and got[-1] == points[-1]


def test_ensure_schema_twice_is_harmless(history):
    history.ensure_schema()
    history.write_points([pt()])
    assert len(history.query_presence(device="d-0001", start_ms=T0, end_ms=T0 + 1)) == 1
