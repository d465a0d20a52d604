"""Tables of the week plan: ``work_plan`` (one row per person per day) and ``plan_pattern``.

A plan is personal: only its owner sees it, unless the owner shares with a team
(``backend.teams``). Rows older than the retention are deleted by the retention job.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.database import Base
from backend.spaces.models import utcnow
from backend.types import UtcDateTime

#: Where a person can plan to be: at a site (any kind) or at home.
PLACES = ("site", "home")
#: What wrote the row: the person, a desk booking, the default pattern, a copied week.
SOURCES = ("manual", "booking", "pattern", "copy")
_PLACE_SQL = "(place = 'home' AND site_id IS NULL) OR (place = 'site' AND site_id IS NOT NULL)"


class WorkPlan(Base):
    """Where one person plans to work on one day; no row means nothing planned."""

    __tablename__ = "work_plan"
    __table_args__ = (CheckConstraint(_PLACE_SQL, name="place"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    place: Mapped[str] = mapped_column(String(10))
    site_id: Mapped[str | None] = mapped_column(
        ForeignKey("site.id", ondelete="CASCADE"), index=True, default=None
    )
    source: Mapped[str] = mapped_column(String(10), default="manual")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PlanPattern(Base):
    """A person's default week: the place for a weekday (0 = Monday)."""

    __tablename__ = "plan_pattern"
    __table_args__ = (
        CheckConstraint(_PLACE_SQL, name="place"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    weekday: Mapped[int] = mapped_column(Integer, primary_key=True)
    place: Mapped[str] = mapped_column(String(10))
    site_id: Mapped[str | None] = mapped_column(
        ForeignKey("site.id", ondelete="CASCADE"), index=True, default=None
    )
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
