"""The demo's weeks of sample history: written through the real SQLite store, rolled up
for the facility reports, agreeing with the plan the live fleet follows, and done once.

Runs on a real SQLite registry seeded like the demo's (``prepare_database``).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from backend.config import Settings as BackendSettings
from werkplek.demo import make_panel, prepare_database
from werkplek.demo_history import MARKER, placed_spaces, seed_history
from werkplek.fleet import TIMEZONE
from werkplek.workday import plan_day

#: A Wednesday at 11:00: today is written up to then, the week before in full.
NOW = datetime(2026, 9, 16, 11, 0, tzinfo=TIMEZONE)


def _settings(tmp_path) -> BackendSettings:
    return BackendSettings(database_url=f"sqlite:///{tmp_path / 'werkplek.sqlite3'}")


def _rows(path, sql: str, *args: object) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def test_one_week_is_written_rolled_up_and_not_written_again(tmp_path):
    backend = _settings(tmp_path)
    prepare_database(backend)
    history = tmp_path / "history.sqlite3"

    done = seed_history(backend, history, tmp_path, weeks=1, seed=3, now=NOW)

    assert done.days == 7 and done.rolled_days >= 7
    assert (tmp_path / MARKER).exists()
    # Every seeded day has its daily rollup: the facility reports read these.
    first = NOW.date() - timedelta(days=7)
    days = {
        datetime.fromtimestamp(int(ms) / 1000, TIMEZONE).date()
        for (ms,) in _rows(history, "SELECT DISTINCT day_ms FROM facility_daily WHERE site != ''")
    }
    assert {
        first + timedelta(days=i) for i in range(7) if (first + timedelta(days=i)).weekday() < 5
    } <= days

    # The stored history follows the fleet's own plan: a desk the plan uses on the
    # past Tuesday has occupied points that day, a desk it leaves empty has none.
    spaces, _ = placed_spaces(backend)
    tuesday = NOW.date() - timedelta(days=1)
    plan = plan_day([s.spec for s in spaces], tuesday, 3)
    lo = int(datetime(2026, 9, 15, tzinfo=TIMEZONE).timestamp() * 1000)
    hi = lo + 86_400_000
    occupied = {
        space
        for (space,) in _rows(
            history,
            "SELECT DISTINCT space FROM presence"
            " WHERE occupied = 1 AND time_ms >= ? AND time_ms < ?",
            lo,
            hi,
        )
    }
    desks = [s.spec.space_id for s in spaces if s.spec.kind == "desk"]
    assert occupied & set(desks) == {d for d in desks if plan[d]}
    # Past bookings fit the same plan: a desk checked into was used, a no-show desk was not.
    db = tmp_path / "werkplek.sqlite3"
    booked = _rows(
        db,
        "SELECT space_id, status, end_reason FROM booking"
        " WHERE local_day = ? AND space_kind = 'desk'",
        tuesday.isoformat(),
    )
    came = {space for space, status, _ in booked if status == "checked_in"}
    missed = {space for space, status, why in booked if status == "released" and why == "no_show"}
    assert came and missed
    assert all(plan[d] for d in came) and not any(plan[d] for d in missed)
    assert _rows(
        db, "SELECT COUNT(*) FROM booking WHERE local_day >= ?", NOW.date().isoformat()
    ) == [(0,)]
    # Today only up to the moment given.
    now_ms = int(NOW.timestamp() * 1000)
    assert _rows(history, "SELECT COUNT(*) FROM presence WHERE time_ms > ?", now_ms) == [(0,)]
    assert (
        _rows(history, "SELECT COUNT(*) FROM presence WHERE time_ms > ?", now_ms - 3_600_000)[0][0]
        > 0
    )

    # Once per data folder: a restart keeps what the live fleet has added since.
    assert seed_history(backend, history, tmp_path, weeks=1, seed=3, now=NOW).days == 0


def test_a_stop_ends_the_writing_early_and_leaves_no_marker(tmp_path):
    backend = _settings(tmp_path)
    prepare_database(backend)
    calls: list[int] = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 2

    done = seed_history(
        backend, tmp_path / "h.sqlite3", tmp_path, weeks=2, seed=0, now=NOW, stop=stop
    )
    assert done.days == 2 and done.rolled_days == 0
    assert not (tmp_path / MARKER).exists()  # the next start writes it all again


def test_the_door_panel_is_a_meeting_room_of_the_start_site(tmp_path):
    backend = _settings(tmp_path)
    _, _, floors = prepare_database(backend)
    site = floors[0][0]
    room, token = make_panel(backend, site)
    spaces, _ = placed_spaces(backend)
    kinds = {s.spec.space_id: (s.site, s.spec.kind) for s in spaces}
    assert kinds[room] == (site, "meeting_room") and len(token) > 20


def test_no_weeks_writes_nothing(tmp_path):
    backend = _settings(tmp_path)
    assert seed_history(backend, tmp_path / "h.sqlite3", tmp_path, weeks=0, seed=0).days == 0
    assert not (tmp_path / "h.sqlite3").exists()
