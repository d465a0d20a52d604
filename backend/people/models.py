"""Tables of people and accountability: ``app_user`` and ``audit_log``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.database import Base
from backend.spaces.models import utcnow
from backend.types import UtcDateTime

#: Every role; what each may do is decided in ``backend.dependencies``.
ROLES = ("employee", "facility", "admin", "signage", "integration", "panel")


class User(Base):
    """A person (or a screen or integration) that can hold tokens and bookings.

    ``subject`` is ``issuer|sub`` for OpenID Connect users; ``password_hash`` (argon2)
    is set only for local accounts of the embedded default.
    """

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200), default=None)
    role: Mapped[str] = mapped_column(String(20), default="employee")
    subject: Mapped[str | None] = mapped_column(String(400), unique=True, default=None)
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    #: Opt-out (AVG): when False, nobody else sees this person's name on a booking.
    show_presence: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class AuditLog(Base):
    """Who changed what, when; person references are anonymised after the retention."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), default=None, index=True
    )
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text, default="{}")
