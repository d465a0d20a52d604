"""Login throttling an attacker cannot turn against the account's owner.

A hard lock per account (10 wrong passwords, 15 minutes) let anyone lock a
colleague out, and keep them out with one request per lock period. Here
attempts are counted per *source address* and per *account from that source*,
never per account alone: a guesser slows down only their own address, while
the owner logging in from elsewhere is not affected. After ``free`` counted
attempts each further one must wait twice as long as the one before (from
``base_s`` up to ``max_s``); earlier tries get 429 with ``Retry-After``.

Attempts are counted *before* the password is checked, in one transaction with
the rows locked (``SELECT ... FOR UPDATE``; SQLite serialises writers), so 50
parallel guesses cannot slip past the count: at most ``free`` are checked. A
successful login clears its account-from-source count. The counts live in the
database, so replicas and restarts share them; a row quiet for ``RETENTION``
is deleted. Keys are sha256 hashes, so no username or address is stored.

IPv6 sources are counted per /64, which one household or host usually holds.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from backend.auth.models import LoginThrottle
from backend.errors import RateLimited

#: Rows without an attempt for this long are deleted.
RETENTION = timedelta(days=1)


@dataclass(frozen=True)
class Limits:
    """Free attempts per key, then a doubling wait from ``base_s`` up to ``max_s``."""

    free: int = 5
    base_s: float = 1.0
    max_s: float = 900.0
    #: A key with no attempt for this long starts again from zero.
    forget_s: float = 3600.0

    def wait_s(self, failures: int) -> float:
        """Seconds the next attempt must wait after ``failures`` counted ones."""
        if failures < self.free:
            return 0.0
        return min(self.max_s, self.base_s * 2.0 ** (failures - self.free))


def source_of(host: str | None) -> str:
    """Return the counted source of a client address (IPv6: its /64)."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Attempt:
    """The two counts one login attempt is held to, with their limits."""

    source: str
    account: str
    source_limits: Limits
    account_limits: Limits

    @classmethod
    def of(cls, username: str, source: str, account: Limits, per_source: Limits) -> Attempt:
        """Key the attempt of ``username`` from ``source`` (see ``source_of``)."""
        return cls(
            _key("source", source), _key("account", username.casefold(), source),
            per_source, account,
        )  # fmt: skip

    def limits(self, key: str) -> Limits:
        """The limits of one of the two keys."""
        return self.source_limits if key == self.source else self.account_limits


def admit(session: Session, attempt: Attempt, now: datetime) -> None:
    """Count one attempt under both keys, or refuse it while either must wait.

    Commits: the count must hold even if the password check that follows fails.

    Raises:
        RateLimited: a key's wait is not over; ``retry_after`` says how long.
    """
    counted = sorted([attempt.source, attempt.account])  # one lock order for everyone
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(LoginThrottle)
        .values([{"key": k, "failures": 0, "next_allowed_at": now, "updated_at": now}
                 for k in counted])
        .on_conflict_do_nothing(index_elements=["key"])
    )  # fmt: skip
    rows = session.scalars(
        select(LoginThrottle)
        .where(LoginThrottle.key.in_(counted))
        .order_by(LoginThrottle.key)
        .with_for_update()
    ).all()
    blocked = max((r.next_allowed_at for r in rows if r.next_allowed_at > now), default=None)
    if blocked is not None:
        session.commit()
        wait = max(1, math.ceil((blocked - now).total_seconds()))
        raise RateLimited(
            f"too many login attempts from here; try again in {wait} s",
            reason="too_many_attempts",
            retry_after=wait,
        )
    for row in rows:
        limits = attempt.limits(row.key)
        if (now - row.updated_at).total_seconds() > limits.forget_s:
            row.failures = 0
        row.failures += 1
        row.next_allowed_at = now + timedelta(seconds=limits.wait_s(row.failures))
        row.updated_at = now
    session.execute(delete(LoginThrottle).where(LoginThrottle.updated_at < now - RETENTION))
    session.commit()


def succeeded(session: Session, attempt: Attempt, now: datetime) -> None:
    """Take back the count of a correct password (the caller commits).

    The account-from-source count is cleared; the source count loses this one
    attempt, so colleagues behind one office address are not slowed down by
    each other's logins, only by failures.
    """
    for key in (attempt.source, attempt.account):
        row = session.get(LoginThrottle, key)
        if row is None:
            continue
        row.failures = 0 if key == attempt.account else max(0, row.failures - 1)
        wait = timedelta(seconds=attempt.limits(key).wait_s(row.failures))
        row.next_allowed_at = min(row.next_allowed_at, now + wait)
        row.updated_at = now
