"""Write the audit log: every change records who did what to which object, and when."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from backend.people.models import AuditLog
from backend.spaces.models import utcnow


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
            at=at or utcnow(),
            actor=actor,
            actor_user_id=actor_user_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            detail=json.dumps(detail, default=str, separators=(",", ":")),
        )
    )
