"""Tables of teams: ``team``, ``team_member`` and the per-person ``plan_sharing`` setting.

A team either follows a group of the identity provider (``oidc_group`` set; its
members follow the groups claim at every login) or is made by an admin.
Sharing is one setting per person, off by default: while it is off, team members
see the person only inside a count, never by name.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.database import Base
from backend.spaces.models import utcnow
from backend.types import UtcDateTime

#: How a person became a member: through the groups claim or by an admin.
MEMBER_SOURCES = ("oidc", "admin")


class Team(Base):
    """A team; ``home_site_id``/``home_zone`` name where it prefers to sit together."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: The group value in the identity provider's groups claim; None for admin-made teams.
    oidc_group: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    home_site_id: Mapped[str | None] = mapped_column(
        ForeignKey("site.id", ondelete="SET NULL"), default=None
    )
    home_zone: Mapped[str | None] = mapped_column(String(63), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TeamMember(Base):
    """One person in one team."""

    __tablename__ = "team_member"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("team.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    source: Mapped[str] = mapped_column(String(10), default="admin")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PlanSharing(Base):
    """A person's choice to show their plan, by name, to the members of their teams."""

    __tablename__ = "plan_sharing"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    share_with_team: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
