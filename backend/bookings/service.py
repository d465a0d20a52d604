"""Create, read, cancel and check in bookings; the database decides who wins a race.

Every state change is a conditional ``UPDATE ... WHERE status IN (...)``: of two
replicas (or a person and the scheduler) acting on one booking at once, exactly
one changes it and writes the audit record; the other sees zero rows and stops.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Date,
    Engine,
    Integer,
    Row,
    Select,
    String,
    bindparam,
    cast,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, make_transient_to_detached

from backend.auth.models import ApiToken
from backend.bookings import events, times
from backend.bookings import policy as policies
from backend.bookings.models import ACTIVE, Booking, SitePolicy
from backend.bookings.schemas import BookingCreate, PolicyPublic
from backend.database import limits_of
from backend.database_limits import DatabaseBusy
from backend.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.people import audit
from backend.people import service as people
from backend.people.models import AuditLog, User
from backend.spaces.models import Site, Space

MANAGERS = ("facility", "admin")
#: Deadlock and serialization failure: the transaction is safe to run again.
RETRY_SQLSTATES = ("40P01", "40001")
RETRIES = 5
_SQLITE_WRITES = threading.Lock()
#: First key of the advisory lock that queues bookings of one space (second: the space).
_SPACE_LOCK_CLASS = 0x5750  # "WP"
_SPACE_LOCK = text("SELECT pg_advisory_xact_lock(:cls, hashtext(:space))")


def actor_of(token: ApiToken) -> str:
    """Name the actor of a change for the audit log (never a person's name)."""
    return f"user:{token.user_id}" if token.user_id is not None else f"token:{token.name}"


def _conflict(exc: IntegrityError) -> Conflict:
    text = str(exc.orig)
    if "ex_booking_no_overlap" in text:
        return Conflict("this space is already booked at that time", reason="space_taken")
    if "day_key" in text or "uq_booking_one_desk_per_day" in text:
        return Conflict("you have a desk booked on that day already", reason="one_desk_per_day")
    raise exc


def create_booking(
    session: Session,
    token: ApiToken,
    req: BookingCreate,
    now: datetime,
    *,
    series_id: str | None = None,
) -> Booking:
    """Book a space for the caller (or, for facility and admin, for another user or a guest).

    Returns the row as written: a detached ``Booking`` (loaded, in no session).

    Raises:
        NotFound: unknown space or user. Forbidden: booking for someone else.
        InvalidInput: a site rule is broken. Conflict: taken, or one desk per day.
    """
    booking = Booking(**book(session, token, req, now, series_id=series_id))
    # Adding it to a session would begin a new transaction that the caller then closes.
    make_transient_to_detached(booking)
    return booking


def book(
    session: Session,
    token: ApiToken,
    req: BookingCreate,
    now: datetime,
    *,
    series_id: str | None = None,
) -> dict[str, Any]:
    """``create_booking`` without the ORM object: the booking's columns as written, id included.

    For the booking API, which answers with these values and has no use for an
    instrumented object (building one was a few per cent of a booking's CPU).
    Raises what ``create_booking`` raises.
    """
    session.info[policies.OPEN_TIME_MEMO] = {}
    try:
        return _create(session, token, req, now, series_id)
    finally:
        session.info.pop(policies.OPEN_TIME_MEMO, None)


#: The prefetch statements, built once: (takes the space lock?, reads a day's opening time?).
_PREFETCH: dict[tuple[bool, bool], Select[Any]] = {}


def _prefetch_statement(locks: bool, by_day: bool) -> Select[Any]:
    """One read of what a booking checks, as plain columns (no ORM objects to load).

    Parameters: ``space_id``, ``owner_id``, and for a day part ``day`` and ``weekday``.
    Building it was about half of this read's Python time, so it is built once per shape.
    """
    stmt = _PREFETCH.get((locks, by_day))
    if stmt is not None:
        return stmt
    space, site = Space.__table__, Site.__table__
    rules, owner = SitePolicy.__table__, User.__table__
    space_id = bindparam("space_id", type_=String)
    columns: list[Any] = [
        space.c.kind,
        space.c.site_id,
        site.c.timezone,
        rules.c.site_id.label("rules_site_id"),
        rules.c.advance_days,
        rules.c.max_minutes,
        rules.c.one_desk_per_day,
        owner.c.id.label("owner_id"),
    ]
    if locks:
        columns.append(func.pg_advisory_xact_lock(_SPACE_LOCK_CLASS, func.hashtext(space_id)))
    if by_day:
        day, weekday = bindparam("day", type_=Date), bindparam("weekday", type_=Integer)
        columns.extend(policies.open_time_columns(space.c.site_id, day, weekday))
    stmt = (
        select(*columns)
        .select_from(
            space.join(site, site.c.id == space.c.site_id)
            .outerjoin(rules, rules.c.site_id == space.c.site_id)
            .outerjoin(owner, owner.c.id == bindparam("owner_id", type_=Integer))
        )
        .where(space.c.id == space_id)
    )
    _PREFETCH[(locks, by_day)] = stmt
    return stmt


#: A site without its own rules row books by the defaults.
_DEFAULT_RULES = PolicyPublic().model_dump()


class _Site:
    """The booked space's site as read by the prefetch (``policies.SiteLike``)."""

    __slots__ = ("id", "timezone")

    def __init__(self, site_id: str, timezone: str) -> None:
        self.id = site_id
        self.timezone = timezone


class _Space:
    """The booked space as read by the prefetch (``policies.SpaceLike``)."""

    __slots__ = ("id", "kind", "site_id")

    def __init__(self, space_id: str, site_id: str, kind: str) -> None:
        self.id = space_id
        self.site_id = site_id
        self.kind = kind


class _Rules:
    """The site's booking rules as read by the prefetch, or the defaults (``RulesLike``)."""

    __slots__ = ("advance_days", "max_minutes", "one_desk_per_day")

    def __init__(self, advance_days: int, max_minutes: int, one_desk_per_day: bool) -> None:
        self.advance_days = advance_days
        self.max_minutes = max_minutes
        self.one_desk_per_day = one_desk_per_day


class _Target:
    """What the prefetch read: the space, its site, the site's rules, whether the owner exists.

    Plain objects holding the columns read, not unsaved ORM rows: building four
    instrumented objects per booking (these three and the booking) was about a tenth
    of the booking's Python time in its worker thread (docs/operations.md, fifth round).
    """

    __slots__ = ("owner_exists", "rules", "site", "space")

    def __init__(self, row: Row[Any], space_id: str) -> None:
        self.space = _Space(space_id, row.site_id, row.kind)
        self.site = _Site(row.site_id, row.timezone)
        if row.rules_site_id is None:
            self.rules = _Rules(
                _DEFAULT_RULES["advance_days"],
                _DEFAULT_RULES["max_minutes"],
                _DEFAULT_RULES["one_desk_per_day"],
            )
        else:
            self.rules = _Rules(row.advance_days, row.max_minutes, row.one_desk_per_day)
        self.owner_exists = row.owner_id is not None


def _prefetch(
    session: Session, req: BookingCreate, owner_id: int | None
) -> tuple[_Target | None, bool]:
    """Load the space, its site, the site's rules and the owner in one round trip.

    On PostgreSQL the same query queues this transaction for the space (the advisory
    lock of ``_queue_for_space``), and a day-part booking reads the day's opening time
    with it (remembered for ``policies.open_time``): a booking's reads are one round trip.
    Returns what was read and whether the space lock is held.
    """
    locks = session.get_bind().dialect.name == "postgresql"
    day = req.date if req.part is not None else None
    params: dict[str, Any] = {"space_id": req.space_id, "owner_id": owner_id}
    if day is not None:
        params.update(day=day, weekday=day.weekday())
    stmt = _prefetch_statement(locks, day is not None)
    row = session.connection().execute(stmt, params).one_or_none()
    if row is None:
        return None, False
    target = _Target(row, req.space_id)
    if day is not None:
        span = policies.span_of(target.site, day, tuple(row)[-4:])
        policies.remember_open_time(session, target.site, day, span)
    return target, locks


def _create(
    session: Session, token: ApiToken, req: BookingCreate, now: datetime, series_id: str | None
) -> dict[str, Any]:
    owner_id = req.user_id if req.user_id is not None else token.user_id
    target, locked = _prefetch(session, req, owner_id)
    if target is None:
        raise NotFound(f"space {req.space_id!r} does not exist", reason="space_not_found")
    space, site, rules = target.space, target.site, target.rules
    if owner_id != token.user_id and token.role not in MANAGERS:
        raise Forbidden("only facility or admin may book for someone else", reason="not_yours")
    if owner_id is None:
        raise InvalidInput("a token without a user must name user_id", reason="no_user")
    if not target.owner_exists:
        people.get_user(session, owner_id)  # raises NotFound (unless made since the read)
    tz = times.zone(site.timezone)
    if req.part is not None and req.date is not None:
        span = policies.open_time(session, site, req.date)
        start, end = times.day_part(span, req.part, tz)
        if start < now < end:  # booking the rest of a part that has begun
            start = now.replace(second=0, microsecond=0)
    else:
        assert req.start is not None and req.end is not None
        start, end = times.to_utc(req.start, tz), times.to_utc(req.end, tz)
    day = policies.check_times(session, site, space, rules, start, end, now)
    per_day = space.kind == "desk" and rules.one_desk_per_day and req.guest_name is None
    fields: dict[str, Any] = {
        "space_id": space.id,
        "site_id": site.id,
        "space_kind": space.kind,
        "user_id": owner_id,
        "guest_name": req.guest_name,
        "title": req.title,
        "start_at": start,
        "end_at": end,
        "local_day": day,
        "day_key": day if per_day else None,
        "status": "booked",
        "checked_in_at": None,
        "check_in_method": None,
        "sensor_fallback": False,
        "ended_at": None,
        "end_reason": None,
        "series_id": series_id,
        "created_at": now,
    }
    for attempt in range(RETRIES):
        try:
            with _writer(session):
                # A retry runs in a new transaction: the prefetch's space lock is gone.
                return _insert(session, token, fields, now, locked and attempt == 0)
        except IntegrityError as exc:
            session.rollback()
            raise _conflict(exc) from exc
        except OperationalError as exc:
            # Concurrent inserts checked against one GiST exclusion index can deadlock;
            # PostgreSQL aborts one of them. Retrying gives the right answer (409).
            session.rollback()
            if getattr(exc.orig, "sqlstate", None) not in RETRY_SQLSTATES or attempt == RETRIES - 1:
                raise
            time.sleep(0.005 * (attempt + 1))
    raise AssertionError("unreachable")


def _writer(session: Session) -> AbstractContextManager[Any]:
    # SQLite has one writer at a time anyway; queueing on a lock here instead of in
    # SQLite's busy handler (which sleeps in growing steps) cuts the tail latency.
    # The overlap rule is still the database's: there is no check in Python.
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return nullcontext()
    engine = bind if isinstance(bind, Engine) else bind.engine
    return _sqlite_writer(limits_of(engine).lock_timeout_ms / 1000)


class _sqlite_writer:  # noqa: N801 - used like a function: ``with _sqlite_writer(s):``
    """Hold SQLite's writer lock, waiting at most the lock timeout (then 503)."""

    def __init__(self, wait_s: float) -> None:
        self._wait_s = wait_s

    def __enter__(self) -> None:
        if not _SQLITE_WRITES.acquire(timeout=self._wait_s):
            raise DatabaseBusy(
                "the database is busy with other bookings; try again in a moment",
                reason="writer_busy",
            )

    def __exit__(self, *_exc: object) -> None:
        _SQLITE_WRITES.release()


def _queue_for_space(session: Session, space_id: str) -> None:
    """Queue this transaction behind others booking the same space (PostgreSQL).

    Without it, concurrent inserts checked against the GiST exclusion index wait on
    each other in cycles; PostgreSQL breaks each cycle only after ``deadlock_timeout``
    (1 s), so 50 people clicking one desk took seconds and retries. Queued on a
    transaction-scoped advisory lock they run one after another in milliseconds,
    and the wait is bounded by ``lock_timeout`` like any other. The overlap rule
    itself stays the database's constraint.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_SPACE_LOCK, {"cls": _SPACE_LOCK_CLASS, "space": space_id})


#: The two inserts of a booking, built once (Core: no ORM unit of work for two rows).
_INSERT_BOOKING = insert(Booking).returning(Booking.id)
_INSERT_AUDIT = insert(AuditLog)
#: The audit columns the statement of ``_insert_both`` takes as parameters (``audit_<name>``).
_AUDIT_PARAMS = ("at", "actor", "actor_user_id", "action", "object_type", "detail")


@functools.cache
def _insert_both() -> Select[Any]:
    """The booking and its audit row in one statement (PostgreSQL): one round trip fewer.

    ``WITH b AS (INSERT INTO booking ... RETURNING id), a AS (INSERT INTO audit_log
    SELECT ..., b.id FROM b) SELECT id FROM b``: both rows are written by one statement
    in the booking's transaction, or neither; a constraint that refuses the booking
    fails the whole statement as the single insert did. Parameters: the booking's
    columns by name, the audit columns as ``audit_<name>``. Built once.
    """
    booking, log = Booking.__table__, AuditLog.__table__
    new = (
        insert(Booking)
        .values({c.name: bindparam(c.name, type_=c.type) for c in booking.c if c.name != "id"})
        .returning(booking.c.id)
        .cte("new_booking")
    )
    audited = [bindparam(f"audit_{name}", type_=log.c[name].type) for name in _AUDIT_PARAMS]
    row = select(*audited, cast(new.c.id, log.c.object_id.type)).select_from(new)
    logged = insert(AuditLog).from_select([*_AUDIT_PARAMS, "object_id"], row).cte("audit")
    stmt = select(new.c.id).add_cte(logged)
    return stmt


def _insert(
    session: Session, token: ApiToken, fields: dict[str, Any], now: datetime, locked: bool
) -> dict[str, Any]:
    if not locked:  # the space lock first, then the host's: one order, no lock cycle
        _queue_for_space(session, fields["space_id"])
    if fields["guest_name"] and fields["space_kind"] == "desk" and token.role not in MANAGERS:
        policies.check_guest_desks(session, fields["user_id"], fields["local_day"])
    connection = session.connection()
    record = audit.values(
        actor_of(token),
        "booking.create",
        "booking",
        "",  # the booking's id: set below, or by the statement itself
        actor_user_id=token.user_id,
        at=now,
        space_id=fields["space_id"],
        start=fields["start_at"].isoformat(),
        end=fields["end_at"].isoformat(),
        guest=fields["guest_name"] is not None,
    )
    if connection.dialect.name == "postgresql":
        params = {f"audit_{name}": record[name] for name in _AUDIT_PARAMS}
        booking_id = connection.execute(_insert_both(), {**fields, **params}).scalar_one()
    else:  # SQLite: two statements (its CTEs cannot hold an INSERT)
        booking_id = connection.execute(_INSERT_BOOKING, fields).scalar_one()
        connection.execute(_INSERT_AUDIT, {**record, "object_id": str(booking_id)})
    events.note_new(session, fields["space_id"], fields["start_at"])  # announced after commit
    session.commit()
    return {"id": booking_id, **fields}


def get_booking(session: Session, token: ApiToken, booking_id: int) -> Booking:
    """Return a booking the caller may see.

    Raises:
        NotFound: it does not exist, or belongs to someone else (no hint which).
        Forbidden: screens and integrations do not read bookings.
    """
    if token.role not in (*MANAGERS, "employee"):
        raise Forbidden(f"role {token.role!r} may not read bookings", reason="role_not_allowed")
    booking = session.get(Booking, booking_id)
    if booking is None or (token.role == "employee" and booking.user_id != token.user_id):
        raise NotFound(f"booking {booking_id} does not exist", reason="booking_not_found")
    return booking


def list_bookings(
    session: Session,
    token: ApiToken,
    *,
    user_id: int | None = None,
    space_id: str | None = None,
    active_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[Booking], int]:
    """Return one page of bookings the caller may see, newest start first, and the total."""
    if token.role not in (*MANAGERS, "employee"):
        raise Forbidden(f"role {token.role!r} may not read bookings", reason="role_not_allowed")
    query = select(Booking)
    if token.role == "employee":
        if user_id is not None and user_id != token.user_id:
            raise Forbidden("employees see only their own bookings", reason="not_yours")
        user_id = token.user_id
    if user_id is not None:
        query = query.where(Booking.user_id == user_id)
    if space_id is not None:
        query = query.where(Booking.space_id == space_id)
    if active_only:
        query = query.where(Booking.status.in_(ACTIVE))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(Booking.start_at.desc(), Booking.id.desc()).limit(limit).offset(offset)
    return session.scalars(page).all(), total


def transition(
    session: Session,
    booking_id: int,
    from_states: Sequence[str],
    *,
    actor: str,
    action: str,
    at: datetime,
    actor_user_id: int | None = None,
    **values: Any,
) -> bool:
    """Change a booking only if it is still in ``from_states``; audit it; True if it changed."""
    changed = session.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.status.in_(from_states))
        .values(**values)
        .returning(Booking.space_id),
        execution_options={events.NOTED: True},
    ).all()
    if len(changed) != 1:
        session.rollback()
        return False
    events.note(session, changed[0].space_id)  # announced after the commit
    audit.record(
        session, actor, action, "booking", booking_id, actor_user_id=actor_user_id, at=at, **values
    )
    session.commit()
    return True


def cancel_booking(session: Session, token: ApiToken, booking_id: int, now: datetime) -> Booking:
    """Cancel an active booking of the caller (managers: anyone's)."""
    booking = get_booking(session, token, booking_id)
    changed = transition(
        session,
        booking.id,
        ACTIVE,
        actor=actor_of(token),
        actor_user_id=token.user_id,
        action="booking.cancel",
        at=now,
        status="cancelled",
        ended_at=now,
        end_reason="cancelled",
    )
    if not changed:
        raise Conflict(f"booking {booking_id} is not active", reason="not_active")
    session.refresh(booking)
    return booking
