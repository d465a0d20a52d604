"""Week plans and teams in the privacy machinery: inventory items, retention, erasure, export.

``backend.privacy`` calls these, so the plan tables need no copy of its code and it
needs none of theirs. ``item`` is the inventory's ``Item`` class, passed in (the
inventory imports this module, not the other way round).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.plans.models import PlanPattern, WorkPlan
from backend.plans.settings import plan_settings
from backend.teams.models import PlanSharing, TeamMember

T = TypeVar("T")

_WHO = (
    "the person; members of their teams see the name only while the person shares "
    "(`plan_sharing`), otherwise only as part of a count; facility only counts of at least "
    "`WERKPLEK_FACILITY_MIN_GROUP` (5) people"
)


def inventory_items(item: Callable[..., T], employ: str, task: str) -> tuple[T, ...]:
    """The inventory entries of the plan and team tables."""
    return (
        item(
            "work_plan",
            "table",
            "Week plan: where a person plans to work on a day (a site or home) and what "
            "wrote it (the person, a copied week, the default week)",
            "your own week; team days with the colleagues you share with; counts for the "
            "energy forecast and the sustainability figures",
            employ,
            _WHO,
            "`WERKPLEK_PLAN_RETENTION_WEEKS` (26) weeks after the day; the person can clear "
            "a day at any time",
            "retention job deletes the row; erasure deletes all of the person's plans",
            personal=("user_id",),
            other=("day", "place", "site_id", "source", "updated_at"),
        ),
        item(
            "plan_pattern",
            "table",
            "Default week: a place per weekday, used to fill a week in one tap",
            "planning quickly",
            employ,
            "the person only",
            "while the account exists; the person replaces or empties it",
            "erasure deletes it",
            personal=("user_id",),
            other=("weekday", "place", "site_id", "updated_at"),
        ),
        item(
            "plan_sharing",
            "table",
            "The person's choice to show their plan by name to their teams (default off)",
            "opt-in team days",
            employ,
            "the person only",
            "while the account exists",
            "erasure deletes it",
            personal=("user_id",),
            other=("share_with_team", "updated_at"),
        ),
        item(
            "team_member",
            "table",
            "Team membership (from the identity provider's groups claim or given by an admin)",
            "team days, desks near the team",
            employ,
            "members of the same team (as a count, names only of those who share); admin "
            "(team sizes)",
            "while the person is in the team: group memberships follow every login",
            "a login without the group or an admin removes it; erasure deletes it",
            personal=("user_id",),
            other=("team_id", "source", "created_at"),
        ),
        item(
            "team",
            "table",
            "Teams: name, the group they follow, a home site and zone",
            "team days, desks near the team",
            task,
            "members (their own teams), admin",
            "while in use",
            "admin",
            other=("id", "name", "oidc_group", "home_site_id", "home_zone", "created_at"),
        ),
    )


def delete_old_plans(session: Session, now: datetime) -> int:
    """Delete plans of days older than the retention (the caller commits)."""
    oldest = now.date() - timedelta(weeks=plan_settings().plan_retention_weeks)
    result = session.execute(delete(WorkPlan).where(WorkPlan.day < oldest))
    return int(result.rowcount)  # type: ignore[attr-defined]


def erase_person(session: Session, user_id: int) -> int:
    """Delete the person's plans, default week, sharing choice and memberships."""
    deleted = 0
    for table in (WorkPlan, PlanPattern, PlanSharing, TeamMember):
        result = session.execute(delete(table).where(table.user_id == user_id))
        deleted += int(result.rowcount)  # type: ignore[attr-defined]
    return deleted


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def export_person(session: Session, user_id: int) -> dict[str, Any]:
    """The person's plan and team records, by inventory item."""
    plans = session.scalars(
        select(WorkPlan).where(WorkPlan.user_id == user_id).order_by(WorkPlan.day)
    )
    pattern = session.scalars(
        select(PlanPattern).where(PlanPattern.user_id == user_id).order_by(PlanPattern.weekday)
    )
    sharing = session.get(PlanSharing, user_id)
    members = session.scalars(select(TeamMember).where(TeamMember.user_id == user_id))

    def row(obj: Any, *names: str) -> dict[str, Any]:
        return {name: _iso(getattr(obj, name)) for name in names}

    return {
        "work_plan": [row(p, "day", "place", "site_id", "source", "updated_at") for p in plans],
        "plan_pattern": [row(p, "weekday", "place", "site_id", "updated_at") for p in pattern],
        "plan_sharing": [row(sharing, "share_with_team", "updated_at")] if sharing else [],
        "team_member": [row(m, "team_id", "source", "created_at") for m in members],
    }
