"""Booking changes announce themselves: an after-commit hook on the app's sessions.

Any committed change of a booking (a new one, a transition, an erasure, the
scheduler) reaches the listener, which refreshes the booking marks the screens
show. Routers no longer have to remember to say so, and a change made through
the service from anywhere (a job, a test, the CLI) is seen like one from the API.

What changed is collected while the transaction runs: new and changed ``Booking``
objects name their space (a new one only when it starts within the marks' window;
the booking service inserts without the ORM and says so with ``note_new``);
a bulk ``UPDATE``/``DELETE`` of bookings names its spaces when the service said
which (``note``), otherwise "all". The listener runs after the transaction has
ended and its connection is back in the pool, in the thread that committed; a
rolled-back change announces nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, sessionmaker

from backend.bookings.marks import HORIZON_H
from backend.bookings.models import Booking
from backend.clock import utcnow

log = logging.getLogger(__name__)

#: ``session.info`` keys: spaces changed in the open transaction; spaces committed.
_PENDING = "werkplek.bookings.pending"
_COMMITTED = "werkplek.bookings.committed"
#: Execution option of a statement whose changed spaces the caller notes itself.
NOTED = "werkplek_bookings_noted"
#: "Every space may have changed" (a bulk change without a list).
ALL: frozenset[str] = frozenset({"*"})

#: The listener: the changed space ids, or None for "all of them".
Listener = Callable[[frozenset[str] | None], None]


def note(session: Session, *space_ids: str) -> None:
    """Record that these spaces' bookings change in the open transaction."""
    pending: set[str] = session.info.setdefault(_PENDING, set())
    pending.update(space_ids)


def note_new(session: Session, space_id: str, start_at: datetime) -> None:
    """Record a booking inserted without the ORM, as ``before_flush`` records a new object.

    One that starts beyond the marks' window changes no mark now and is not noted.
    """
    if start_at < utcnow() + timedelta(hours=HORIZON_H):
        note(session, space_id)


class BookingEvents:
    """Tells a listener about booking changes once they are committed."""

    def __init__(self, listener: Listener) -> None:
        self._listener = listener

    def install(self, factory: sessionmaker[Session]) -> None:
        """Watch every session the factory makes."""
        event.listen(factory, "before_flush", self._before_flush)
        event.listen(factory, "do_orm_execute", self._on_execute)
        event.listen(factory, "after_commit", self._after_commit)
        event.listen(factory, "after_transaction_end", self._after_end)

    def _before_flush(self, session: Session, _context: Any, _instances: Any) -> None:
        # A new booking that starts beyond the marks' window changes no mark now (most
        # bookings are for later days): no read for it. Changes of others always count.
        window_end = utcnow() + timedelta(hours=HORIZON_H)
        spaces = [
            obj.space_id
            for obj in (*session.new, *session.dirty, *session.deleted)
            if isinstance(obj, Booking)
            and not (obj in session.new and obj.start_at is not None and obj.start_at >= window_end)
        ]
        if spaces:
            note(session, *spaces)

    def _on_execute(self, state: ORMExecuteState) -> None:
        if not (state.is_update or state.is_delete) or state.execution_options.get(NOTED):
            return
        if any(mapper.class_ is Booking for mapper in state.all_mappers):
            note(state.session, *ALL)

    def _after_commit(self, session: Session) -> None:
        pending = session.info.pop(_PENDING, None)
        if pending:
            session.info.setdefault(_COMMITTED, set()).update(pending)

    def _after_end(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is not None:
            return  # a savepoint or subtransaction: wait for the outermost one
        session.info.pop(_PENDING, None)  # rolled back: nothing happened
        committed = session.info.pop(_COMMITTED, None)
        if not committed:
            return
        try:
            self._listener(None if "*" in committed else frozenset(committed))
        except Exception:  # the change is committed; the scheduler's next run catches up
            log.exception("booking change announcement failed")
