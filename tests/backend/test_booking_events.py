"""Booking changes announce themselves after the commit, whoever makes them.

The routers no longer tell the runtime; a change through the booking service from
anywhere (here: straight from a test thread, no HTTP) reaches the marks the SSE
hub shows. A rolled-back change announces nothing.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from backend.auth import service as auth_service
from backend.bookings import service as bookings
from backend.bookings.events import BookingEvents
from backend.bookings.models import Booking
from backend.bookings.schemas import BookingCreate, BookingPublic
from backend.clock import utcnow
from backend.database import make_engine, make_session_factory
from backend.errors import Conflict
from backend.people import audit
from backend.people.models import AuditLog
from tests.backend.conftest import always_open
from tests.backend.test_bookings_api import AMS, local_range
from tests.backend.test_scheduler import add
from tests.services import wait_until

DESK = "hq.1.d-001"
NOW = utcnow().replace(microsecond=0)


@pytest.fixture
def heard(seeded, people):
    """A session factory whose booking changes are recorded, and the record."""
    calls: list[frozenset[str] | None] = []
    engine = make_engine(seeded.url)
    factory = make_session_factory(engine)
    BookingEvents(calls.append).install(factory)
    yield factory, calls
    engine.dispose()


def test_a_committed_booking_names_its_space(heard, people):
    factory, calls = heard
    booking_id = add(factory, people("employee", "ann").id, DESK, NOW)
    assert calls == [frozenset({DESK})]
    with factory() as session:
        bookings.transition(session, booking_id, ("booked",), actor="test", action="test.cancel",
                            at=NOW, status="cancelled")  # fmt: skip
    assert calls[-1] == frozenset({DESK})


def test_a_new_booking_beyond_the_marks_window_needs_no_read(heard, people):
    factory, calls = heard
    ann = people("employee", "ann")
    booking_id = add(factory, ann.id, DESK, NOW + timedelta(days=3))
    assert calls == []  # no mark can show it yet; the scheduler's full reads will
    with factory() as session:  # but cancelling it later is announced
        bookings.transition(session, booking_id, ("booked",), actor="test", action="test.cancel",
                            at=NOW, status="cancelled")  # fmt: skip
    assert calls == [frozenset({DESK})]


def test_the_services_insert_is_announced_only_within_the_marks_window(seeded, heard, people):
    # The booking service inserts without the ORM (no before_flush sees it): it notes the
    # space itself, by the same window rule. What it returns is what it stored.
    always_open(seeded.url)
    factory, calls = heard
    ann = people("employee", "ann")
    with factory() as session:
        token = auth_service.authenticate(session, ann.token)
        later = (utcnow() + timedelta(days=3)).astimezone(AMS).date()
        far = bookings.create_booking(
            session, token, BookingCreate(space_id=DESK, date=later, part="morning"), utcnow()
        )
        assert calls == []
        start, end = local_range(30)
        soon = bookings.create_booking(
            session, token, BookingCreate(space_id=DESK, start=start, end=end), utcnow()
        )
        assert not session.in_transaction()
    assert calls == [frozenset({DESK})]
    with factory() as session:
        for made in (far, soon):
            stored = session.get(Booking, made.id)
            assert BookingPublic.model_validate(stored) == BookingPublic.model_validate(made)
            trail = session.scalars(
                select(AuditLog).where(AuditLog.object_type == "booking",
                                       AuditLog.object_id == str(made.id))
            ).all()  # fmt: skip
            assert [(a.action, a.actor, a.actor_user_id) for a in trail] == [
                ("booking.create", f"user:{ann.id}", ann.id)
            ]
            assert json.loads(trail[0].detail) == {
                "space_id": DESK, "start": made.start_at.isoformat(),
                "end": made.end_at.isoformat(), "guest": False,
            }  # fmt: skip


def test_a_booking_and_its_audit_row_are_one_statement_on_postgresql_and_never_apart(
    seeded, heard, people
):
    # On PostgreSQL both rows go in one statement (a data-modifying CTE): one round trip
    # fewer per booking. A booking the database refuses leaves no audit row behind, and
    # the one it took has exactly one, naming it. SQLite keeps two statements.
    always_open(seeded.url)
    factory, _calls = heard
    ann, bob = people("employee", "ann"), people("employee", "bob")
    day = (utcnow() + timedelta(days=3)).astimezone(AMS).date()
    writes: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith(("INSERT", "WITH")):
            writes.append(statement)

    engine = factory.kw["bind"]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        with factory() as session:
            made = bookings.create_booking(
                session,
                auth_service.authenticate(session, ann.token),
                BookingCreate(space_id=DESK, date=day, part="morning"),
                utcnow(),
            )
            took = len(writes)
            with pytest.raises(Conflict):  # the same desk, the same morning
                bookings.create_booking(
                    session,
                    auth_service.authenticate(session, bob.token),
                    BookingCreate(space_id=DESK, date=day, part="morning"),
                    utcnow(),
                )
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert took == (1 if engine.dialect.name == "postgresql" else 2)
    with factory() as session:
        trail = session.scalars(select(AuditLog).where(AuditLog.action == "booking.create")).all()
        assert [(a.object_type, a.object_id, a.actor) for a in trail] == [
            ("booking", str(made.id), f"user:{ann.id}")
        ]
        assert trail[0].at == made.created_at
        assert session.scalars(select(Booking.user_id)).all() == [ann.id]


def test_a_rolled_back_change_and_other_tables_announce_nothing(heard, people):
    factory, calls = heard
    ann = people("employee", "ann")
    with factory() as session:
        session.add(Booking(space_id=DESK, site_id="hq", space_kind="desk", user_id=ann.id,
                            start_at=NOW, end_at=NOW + timedelta(hours=1),
                            local_day=NOW.date()))  # fmt: skip
        session.flush()
        session.rollback()
        audit.record(session, "test", "test.other", "site", "hq")
        session.commit()
    with factory() as session:  # a transition that finds nothing to change
        assert not bookings.transition(
            session, 10**6, ("booked",), actor="test", action="test.x", at=NOW, status="released"
        )
    assert calls == []


def test_a_bulk_change_announces_every_space(heard, people):
    factory, calls = heard
    ann = people("employee", "ann")
    add(factory, ann.id, DESK, NOW)
    with factory() as session:
        session.execute(update(Booking).where(Booking.user_id == ann.id).values(title=None))
        session.commit()
    assert calls[-1] is None


def test_a_booking_made_through_the_service_reaches_the_hub(seeded, serve, people):
    always_open(seeded.url)
    backend = serve(seeded.settings(booking_check_s=3600))  # no scheduler run would help
    runtime = backend.runtime
    ann = people("employee", "ann")
    start, end = local_range(30)
    with runtime.session_factory() as session:
        token = auth_service.authenticate(session, ann.token)
        request = BookingCreate(space_id=DESK, start=start, end=end)
        booking = bookings.create_booking(session, token, request, utcnow())
    # Read in this thread after the commit, applied on the server's loop right after.
    wait_until(lambda: DESK in runtime.hub.marks, 10, what="the new booking's mark")
    booked_until, _next = runtime.hub.marks[DESK]
    assert booked_until == int(booking.end_at.timestamp() * 1000)
    with runtime.session_factory() as session:
        bookings.cancel_booking(session, token, booking.id, utcnow())
    wait_until(lambda: DESK not in runtime.hub.marks, 10, what="the cancelled booking's mark gone")
