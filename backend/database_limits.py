"""Bounds on every database wait, so a request ends with an answer instead of stalling.

Why this exists (issue 14): lock waits on PostgreSQL had no bound and the pool
(5 + 10 connections, 30 s checkout wait) was smaller than the request threads
(anyio's 40 plus asyncio's default executor for token look-ups). One transaction
that holds a booking's entry in the no-overlap index without finishing made every
competing booking of that space wait on it for ever, each holding a pooled
connection; once the pool was used up, every other request, including the token
look-up every request starts with, queued in the pool. Nothing answered: the
race test saw 14 sessions on ``Lock/transactionid``, threads parked in the pool
queue and in psycopg's wait, and 50 client timeouts.

Now each wait has a bound well under a client's timeout and ends in a clear 503
with ``Retry-After``: the pool checkout (``pool_timeout_s``), a lock
(``lock_timeout``), a statement (``statement_timeout``), and a session left idle
inside a transaction (``idle_in_transaction_session_timeout``, which frees the
locks of a stuck holder).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from backend.errors import Unavailable

#: SQLSTATEs of a bounded wait that ran out: lock_not_available (lock_timeout) and
#: query_canceled (statement_timeout). The work may succeed when retried.
LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"


@dataclass(frozen=True, slots=True)
class DatabaseLimits:
    """Pool size and wait bounds of the backend's database.

    Configured with the backend's settings (``WERKPLEK_DB_*``, ``Settings.database_limits``);
    tools that build an engine without them get these defaults.
    """

    #: Connections kept open, and the extra ones opened under load. The kept ones cover
    #: the sync request threads (40): a connection opened and closed per request under
    #: load (overflow) cost a quarter of a booking's time in the Monday rush.
    pool_size: int = 40
    max_overflow: int = 10
    #: Longest wait for a pooled connection before the request gets 503.
    pool_timeout_s: float = 5.0
    #: Longest wait for one lock: PostgreSQL's ``lock_timeout``; on SQLite the wait for
    #: the single writer (our queue, then SQLite's ``busy_timeout``).
    lock_timeout_ms: int = 3000
    #: PostgreSQL only: longest time one statement may run.
    statement_timeout_ms: int = 20000
    #: PostgreSQL only: a session idle inside a transaction this long is ended by the
    #: server, which releases its locks (a stuck process cannot block bookings).
    idle_in_transaction_ms: int = 30000

    def postgres_options(self) -> str:
        """The ``options`` connect argument that sets the server-side bounds per session."""
        return (
            f"-c lock_timeout={self.lock_timeout_ms} "
            f"-c statement_timeout={self.statement_timeout_ms} "
            f"-c idle_in_transaction_session_timeout={self.idle_in_transaction_ms}"
        )


class DatabaseBusy(Unavailable):
    """A bounded database wait ran out; the request did nothing and may be retried."""

    reason = "database_busy"
    #: Every bound above ends in seconds; a short wait is enough before a retry.
    retry_after = 1


def busy_error(exc: BaseException) -> DatabaseBusy | None:
    """Return the 503 for a bounded wait that ran out or a database that is down, else None.

    Bounded waits: pool timeout, lock timeout, statement timeout. Down: not
    reachable or restarting (see :func:`_unreachable`).
    """
    if isinstance(exc, PoolTimeout):
        return DatabaseBusy(
            "all database connections are in use; try again in a moment", reason="pool_exhausted"
        )
    if isinstance(exc, OperationalError):
        state: Any = getattr(exc.orig, "sqlstate", None)
        # SQLite gives up after its busy_timeout with this text (it has no SQLSTATE).
        if state == LOCK_NOT_AVAILABLE or "database is locked" in str(exc.orig):
            return DatabaseBusy(
                "another change holds what this request needs; try again in a moment",
                reason="lock_timeout",
            )
        if state == QUERY_CANCELED:
            return DatabaseBusy(
                "the database did not answer in time; try again in a moment",
                reason="statement_timeout",
            )
        if _unreachable(exc, state):
            return DatabaseBusy(
                "the database cannot be reached; try again in a moment",
                reason="database_unavailable",
            )
    return None


#: SQLSTATEs of a server going away or not yet back: admin_shutdown, crash_shutdown,
#: cannot_connect_now (crash recovery). Class 08 (connection exceptions) counts too.
DOWN_SQLSTATES = ("57P01", "57P02", "57P03")


def _unreachable(exc: OperationalError, state: Any) -> bool:
    """A server that is down or restarting, not a broken request (the soak's PostgreSQL kill).

    psycopg gives no SQLSTATE when it cannot connect or the connection drops; SQLite's
    errors have none either, so that case counts only for psycopg.
    """
    if exc.connection_invalidated or state in DOWN_SQLSTATES:
        return True
    if isinstance(state, str):
        return state.startswith("08")
    return type(exc.orig).__module__.startswith("psycopg")
