"""Erasure of a person (AVG art. 17): remove or anonymise every trace, say what stays.

What stays, and why: a booking in progress right now stays, without the person,
until it ends (the space is in use; the scheduler and facility staff still need
it), then the retention job deletes it. Audit records of changes stay (the
municipality must account for them) without the person as actor or object.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from backend.auth.models import ApiToken
from backend.bookings.models import Booking
from backend.people import audit
from backend.people.models import AuditLog, User
from backend.plans.privacy import erase_person as erase_plans
from backend.privacy.export import legacy_actor
from backend.privacy.retention import SELF_ACTIONS, affected

#: What an erased person reads as in the audit log.
ERASED = "erased"


@dataclass(frozen=True, slots=True)
class ErasureResult:
    """What one erasure did; returned to the caller and written to the audit log."""

    bookings_deleted: int
    bookings_anonymised: int
    tokens_deleted: int
    audit_deleted: int
    audit_anonymised: int
    #: Week plans, default week, sharing choice and team memberships.
    plan_rows_deleted: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The counts, plus what stays and for how long."""
        body: dict[str, Any] = asdict(self)
        body["kept"] = [
            "a booking in progress stays without your name until it ends, then the "
            "retention job deletes it",
            "audit records of changes stay without you as actor or object",
            "access and broker logs (IP addresses) until their rotation, at most 30 days",
        ]
        return body


def erase(session: Session, user: User, now: datetime, actor: str) -> ErasureResult:
    """Erase ``user`` and commit; ``actor`` names who asked (never the person's name)."""
    uid = user.id
    running = (Booking.user_id == uid) & (Booking.start_at <= now) & (Booking.end_at > now)
    running &= Booking.ended_at.is_(None)
    anonymised_bookings = affected(
        session.execute(
            update(Booking).where(running).values(user_id=None, guest_name=None, title=None)
        )
    )
    deleted_bookings = affected(session.execute(delete(Booking).where(Booking.user_id == uid)))
    tokens = affected(session.execute(delete(ApiToken).where(ApiToken.user_id == uid)))
    about_user = (AuditLog.object_type == "user") & (AuditLog.object_id == str(uid))
    dropped = affected(
        session.execute(delete(AuditLog).where(about_user, AuditLog.action.in_(SELF_ACTIONS)))
    )
    legacy = legacy_actor(user.username)  # older releases named the username here
    by_user = or_(
        AuditLog.actor_user_id == uid, AuditLog.actor == f"user:{uid}", AuditLog.actor == legacy
    )
    changed = affected(
        session.execute(update(AuditLog).where(by_user).values(actor=ERASED, actor_user_id=None))
    )
    changed += affected(
        session.execute(update(AuditLog).where(about_user).values(object_id=ERASED))
    )
    plan_rows = erase_plans(session, uid)
    session.execute(delete(User).where(User.id == uid))
    result = ErasureResult(
        deleted_bookings, anonymised_bookings, tokens, dropped, changed, plan_rows
    )
    audit.record(session, actor, "user.erase", "user", ERASED, at=now, **asdict(result))
    session.commit()
    return result


def find(session: Session, user_id: int) -> User | None:
    """The user ``user_id`` or None."""
    return session.scalar(select(User).where(User.id == user_id))
