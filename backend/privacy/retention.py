"""The retention job: every person-linked row the inventory lists is removed on schedule.

It runs hourly in every backend replica (``backend.runtime``) and is idempotent, so
replicas may run it at once. ``days`` is ``WERKPLEK_RETENTION_DAYS``; ``now`` is
passed in, so tests run it a year ahead on a used database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, not_, or_, update
from sqlalchemy.orm import Session

from backend.auth import throttle
from backend.auth.models import ApiToken, LoginThrottle
from backend.bookings.models import Booking
from backend.people.models import AuditLog
from backend.plans.privacy import delete_old_plans

#: What an anonymised actor or object reads as.
ANONYMISED = "anonymised"
#: Actors that never stand for a person; every other actor is anonymised after the period
#: (``token:<name>`` too: a name given to a token can be a person's).
SYSTEM_ACTORS = ("system", "oidc", "anonymous", ANONYMISED, "erased")
#: Audit actions a person does to their own account: worth nothing once unlinked, so the
#: rows are deleted rather than kept as noise.
SELF_ACTIONS = (
    "login",
    "login.failed",
    "calendar_feed.issue",
    "calendar_feed.revoke",
    "user.preferences",
)


@dataclass(frozen=True, slots=True)
class RetentionResult:
    """Counts of one retention run."""

    bookings_deleted: int
    audit_anonymised: int
    tokens_deleted: int
    audit_deleted: int = 0
    throttle_deleted: int = 0
    plans_deleted: int = 0


def personal_actor() -> ColumnElement[bool]:
    """SQL condition: the audit actor may stand for a person."""
    return and_(
        AuditLog.actor.not_in(SYSTEM_ACTORS),
        not_(AuditLog.actor.like("system:%")),
    )


def affected(result: object) -> int:
    """Rows a DELETE or UPDATE touched (also used by ``backend.privacy.erasure``)."""
    return int(result.rowcount)  # type: ignore[attr-defined]


def run_retention(session: Session, now: datetime, days: int) -> RetentionResult:
    """Delete or anonymise everything person-linked older than ``days``; commit.

    Bookings go ``days`` after they ended; tokens ``days`` after they expired or
    were revoked; login-throttle counts a day after the last attempt. Audit records
    stay (the municipality must account for changes) but lose the person as actor
    and as object.
    """
    cutoff = now - timedelta(days=days)
    ended = or_(Booking.end_at < cutoff, Booking.ended_at < cutoff)
    bookings = affected(session.execute(delete(Booking).where(ended)))
    old = AuditLog.at < cutoff
    about_user = AuditLog.object_type == "user"
    dropped = affected(
        session.execute(delete(AuditLog).where(old, about_user, AuditLog.action.in_(SELF_ACTIONS)))
    )
    anonymised = affected(
        session.execute(
            update(AuditLog)
            .where(old, personal_actor())
            .values(actor=ANONYMISED, actor_user_id=None)
        )
    )
    anonymised += affected(
        session.execute(
            update(AuditLog)
            .where(old, AuditLog.actor_user_id.is_not(None))
            .values(actor_user_id=None)
        )
    )
    anonymised += affected(
        session.execute(
            update(AuditLog)
            .where(old, about_user, AuditLog.object_id.not_in((ANONYMISED, "erased")))
            .values(object_id=ANONYMISED)
        )
    )
    tokens = affected(
        session.execute(
            delete(ApiToken).where(
                or_(
                    and_(ApiToken.expires_at.is_not(None), ApiToken.expires_at < cutoff),
                    and_(ApiToken.revoked_at.is_not(None), ApiToken.revoked_at < cutoff),
                )
            )
        )
    )
    # The login check prunes these too, but only when someone logs in.
    quiet = LoginThrottle.updated_at < now - throttle.RETENTION
    counts = affected(session.execute(delete(LoginThrottle).where(quiet)))
    plans = delete_old_plans(session, now)  # after WERKPLEK_PLAN_RETENTION_WEEKS
    session.commit()
    return RetentionResult(bookings, anonymised, tokens, dropped, counts, plans)
