"""The scheduler's rules and the retention job against a real database (SQLite, PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.bookings import scheduler, times
from backend.bookings.models import Booking
from backend.database import make_engine, make_session_factory
from backend.errors import InvalidInput
from backend.people import audit
from backend.people.models import AuditLog

NOW = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def factory(seeded, people):
    engine = make_engine(seeded.url)
    yield make_session_factory(engine)
    engine.dispose()


def add(factory, user_id: int, space_id: str, start: datetime, minutes: int = 60, **kw) -> int:
    with factory() as session:
        kind = "desk" if ".d-" in space_id else "meeting_room"
        booking = Booking(
            space_id=space_id, site_id="hq", space_kind=kind, user_id=user_id, start_at=start,
            end_at=start + timedelta(minutes=minutes), local_day=start.date(), **kw,
        )  # fmt: skip
        session.add(booking)
        session.commit()
        return booking.id


def status(factory, booking_id: int) -> tuple[str, str | None, bool]:
    with factory() as session:
        b = session.get(Booking, booking_id)
        assert b is not None
        return b.status, b.end_reason, b.sensor_fallback


def vacant(since: datetime) -> scheduler.SensorView:
    return scheduler.SensorView("vacant", since)


def test_grace_period_and_bad_data(factory, people):
    ann = people("employee", "ann")
    start = NOW - timedelta(minutes=20)
    no_show = add(factory, ann.id, "hq.1.d-001", start, 120)
    unknown = add(factory, ann.id, "hq.1.d-002", start, 120)
    late_sensor = add(factory, ann.id, "hq.1.d-003", start, 120)
    young = add(factory, ann.id, "hq.1.r-01", NOW - timedelta(minutes=5), 60)
    views = {
        "hq.1.d-001": vacant(start - timedelta(hours=1)),
        "hq.1.d-002": scheduler.SensorView("unknown", None),
        # The sensor came back 10 minutes ago: grace counts from then, not from the start.
        "hq.1.d-003": vacant(NOW - timedelta(minutes=10)),
        "hq.1.r-01": vacant(NOW - timedelta(hours=1)),
    }
    result = scheduler.run_once(factory, NOW, views)
    assert result.released == [no_show]
    assert status(factory, no_show) == ("released", "no_show", False)
    assert status(factory, unknown) == ("booked", None, True)
    assert status(factory, late_sensor)[0] == "booked"
    assert status(factory, young)[0] == "booked"  # 5 of 10 minutes of a room's grace
    later = scheduler.run_once(factory, NOW + timedelta(minutes=6), views)
    assert sorted(later.released) == sorted([late_sensor, young])
    assert status(factory, unknown) == ("booked", None, True)  # never released on bad data


def test_replicas_racing_release_once(factory, people, seeded):
    ann = people("employee", "ann")
    ids = [add(factory, ann.id, f"hq.2.d-{n:03d}", NOW - timedelta(minutes=30)) for n in (1, 2, 3)]
    views = {f"hq.2.d-{n:03d}": vacant(NOW - timedelta(hours=2)) for n in (1, 2, 3)}
    gate = threading.Barrier(4)
    results: list[scheduler.TickResult] = []

    def replica() -> None:
        gate.wait()
        results.append(scheduler.run_once(factory, NOW, views))

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    released = sorted(i for r in results for i in r.released)
    assert released == sorted(ids)  # each exactly once across 4 replicas
    rows = seeded.query("SELECT object_id FROM audit_log WHERE action = 'booking.release'")
    assert sorted(int(r[0]) for r in rows) == sorted(ids)


def test_check_in_between_read_and_release_keeps_the_booking(factory, people, monkeypatch):
    # Found by the soak (bench/soak.py): the scheduler read a booking as "booked",
    # the person checked in through the app, then the no-show release still went
    # through because it accepted any active status.
    ann = people("employee", "ann")
    late = add(factory, ann.id, "hq.1.d-004", NOW - timedelta(minutes=30))
    real = scheduler.transition

    def person_checks_in_first(session, booking_id, from_states, **kw):
        with factory() as other:
            checked = real(other, booking_id, ("booked",), actor="user:ann",
                           action="booking.check_in", at=NOW, status="checked_in",
                           checked_in_at=NOW, check_in_method="app")  # fmt: skip
            assert checked
        return real(session, booking_id, from_states, **kw)

    monkeypatch.setattr(scheduler, "transition", person_checks_in_first)
    result = scheduler.run_once(factory, NOW, {"hq.1.d-004": vacant(NOW - timedelta(hours=1))})
    assert result.released == []
    assert status(factory, late) == ("checked_in", None, False)


def test_retention_deletes_what_it_should(factory, people, seeded):
    ann = people("employee", "ann")
    old = add(factory, ann.id, "hq.1.d-005", NOW - timedelta(days=40))
    edge = add(factory, ann.id, "hq.1.d-005", NOW - timedelta(days=29))
    recent = add(factory, ann.id, "hq.1.d-006", NOW - timedelta(days=1))
    future = add(factory, ann.id, "hq.1.d-007", NOW + timedelta(days=3))
    with factory() as session:
        actor = f"user:{ann.id}"
        for at in (NOW - timedelta(days=31), NOW - timedelta(days=2)):
            audit.record(session, actor, "booking.create", "booking", old, actor_user_id=ann.id,
                         at=at)  # fmt: skip
        audit.record(session, "system:scheduler", "booking.release", "booking", old,
                     at=NOW - timedelta(days=35))  # fmt: skip
        session.commit()
        done = scheduler.run_retention(session, NOW, days=30)
    assert done.bookings_deleted == 1
    remaining = {r[0] for r in seeded.query("SELECT id FROM booking")}
    assert remaining == {edge, recent, future}
    assert old not in remaining
    trail = seeded.query("SELECT actor, actor_user_id, at FROM audit_log ORDER BY id")
    by_actor = [(a, u) for a, u, _ in trail if a != "system:scheduler"]
    assert ("anonymised", None) in by_actor  # the 31-day-old record lost its person
    assert (f"user:{ann.id}", ann.id) in by_actor  # the 2-day-old one keeps it
    assert ("system:scheduler", None) in [(a, u) for a, u, _ in trail]
    # Running it again changes nothing: it is idempotent, so every replica may run it.
    with factory() as session:
        again = scheduler.run_retention(session, NOW, days=30)
    assert again == scheduler.RetentionResult(0, 0, 0)
    with factory() as session:
        assert session.query(AuditLog).count() == len(trail)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_local_time_rules_on_dst_days(seeded):
    ams = ZoneInfo("Europe/Amsterdam")
    spring, autumn = date(2027, 3, 28), date(2027, 10, 31)
    with pytest.raises(InvalidInput, match="does not exist"):
        times.localize(spring, time(2, 30), ams)
    with pytest.raises(InvalidInput, match="happens twice"):
        times.localize(autumn, time(2, 30), ams)
    span = times.open_time(spring, ams, {6: (time(0), time(23, 59))}, {})
    start, end = times.day_part(span, "day", ams)
    assert times.minutes(start, end) == 23 * 60 - 1  # a 23-hour day
    span = times.open_time(autumn, ams, {6: (time(0), time(23, 59))}, {})
    start, end = times.day_part(span, "day", ams)
    assert times.minutes(start, end) == 25 * 60 - 1  # a 25-hour day
    # Default hours: closed on Sunday, open on Monday; a holiday closes.
    assert not times.open_time(spring, ams, None, {}).is_open
    monday = spring + timedelta(days=1)
    assert times.open_time(monday, ams, None, {}).opens == datetime(2027, 3, 29, 7, tzinfo=ams)
    assert not times.open_time(monday, ams, None, {monday: "Tweede paasdag"}).is_open
    assert times.local_day(datetime(2027, 10, 30, 22, 30, tzinfo=UTC), ams) == autumn
