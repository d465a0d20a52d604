"""The person's data export (AVG art. 15 and 20): every record the inventory lists for them.

Machine-readable JSON; secrets (password hash, token hashes) are described, never
given. Audit records name other people's actions only by role of actor ("another
user"), so one person's export does not reveal a colleague.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from backend.auth.models import ApiToken
from backend.bookings.models import Booking
from backend.people.models import AuditLog, User
from backend.plans.privacy import export_person as plan_records

#: Export format version; bump when a field is removed or renamed.
FORMAT = 1


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every column of a mapped row as JSON types, without ``skip``."""
    table = obj.__table__
    return {c.name: _value(getattr(obj, c.key)) for c in table.columns if c.name not in skip}


def legacy_actor(username: str) -> str:
    """The actor older releases wrote for a person's session: it named the username."""
    return f"token:session of {username}"[:120]


def audit_about(user: User, booking_ids: list[int]) -> Select[AuditLog]:
    """Audit records where the person is the actor or the object (their account or booking)."""
    user_id = user.id
    conditions = [
        AuditLog.actor_user_id == user_id,
        AuditLog.actor.in_((f"user:{user_id}", legacy_actor(user.username))),
        (AuditLog.object_type == "user") & (AuditLog.object_id == str(user_id)),
    ]
    if booking_ids:
        ids = [str(i) for i in booking_ids]
        conditions.append((AuditLog.object_type == "booking") & AuditLog.object_id.in_(ids))
    return select(AuditLog).where(or_(*conditions)).order_by(AuditLog.id)


def _actor(actor: str, user: User) -> str:
    if actor in (f"user:{user.id}", legacy_actor(user.username)):
        return "you"
    if actor.startswith("user:"):
        return "another user"
    return actor


def collect(session: Session, user: User) -> dict[str, Any]:
    """Everything stored about ``user``, grouped by the inventory's items."""
    bookings = session.scalars(
        select(Booking).where(Booking.user_id == user.id).order_by(Booking.start_at)
    ).all()
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    ).all()
    trail = session.scalars(audit_about(user, [b.id for b in bookings])).all()
    account = _row(user, skip=("password_hash",))
    account["has_local_password"] = user.password_hash is not None
    return {
        "format": FORMAT,
        "exported_at": _value(datetime.now().astimezone()),
        "app_user": account,
        "booking": [_row(b) for b in bookings],
        "api_token": [_row(t, skip=("token_hash",)) for t in tokens],
        "audit_log": [
            {
                "id": a.id,
                "at": _value(a.at),
                "actor": _actor(a.actor, user),
                "action": a.action,
                "object_type": a.object_type,
                "object_id": a.object_id,
                "detail": json.loads(a.detail or "{}"),
            }
            for a in trail
        ],
        **plan_records(session, user.id),  # week plans and teams
        "not_stored_per_person": [
            "occupancy history (per space, never joined with bookings or accounts)",
            "calendar feeds (generated on request)",
            "HTTP access and broker logs hold IP addresses, not accounts; ask IT",
        ],
    }
