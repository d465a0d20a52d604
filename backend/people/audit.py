"""Write the audit log: every change records who did what to which object, and when."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from backend.people.models import AuditLog
from backend.spaces.models import utcnow

if TYPE_CHECKING:
    from backend.auth.models import ApiToken


def actor_of(token: ApiToken) -> str:
    """Name the actor of a change: ``user:<id>`` for a person's token, never their name.

    A session's name once held the username, and ``token:<name>`` put it in the audit
    log where retention could not find it; only tokens of no person go by name.
    """
    return f"user:{token.user_id}" if token.user_id is not None else f"token:{token.name}"


def record(
    session: Session,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    *,
    actor_user_id: int | None = None,
    at: datetime | None = None,
    **detail: Any,
) -> None:
    """Add an audit record to the session; it commits with the change it describes."""
    session.add(
        AuditLog(
            **values(
                actor, action, object_type, object_id, actor_user_id=actor_user_id, at=at, **detail
            )
        )
    )


def values(
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    *,
    actor_user_id: int | None = None,
    at: datetime | None = None,
    **detail: Any,
) -> dict[str, Any]:
    """The columns of an audit record, for a caller that inserts it without the ORM."""
    return {
        "at": at or utcnow(),
        "actor": actor,
        "actor_user_id": actor_user_id,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "detail": json.dumps(detail, default=str, separators=(",", ":")),
    }
