"""The ``api_token`` table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.database import Base
from backend.spaces.models import utcnow
from backend.types import UtcDateTime


class ApiToken(Base):
    """A bearer token for a role; the token itself is never stored, only its sha256.

    Login sessions are tokens too: they carry the ``user_id`` and an ``expires_at``.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), default=None, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class LoginThrottle(Base):
    """Counted login attempts of one source address, or of one account from one source.

    Kept in the database so every replica and a restarted process see the same
    counts. ``key`` is a sha256 of what is counted, so the table holds no username
    or address in the clear. Rows quiet for a day are deleted.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    #: No attempt with this key is checked before this moment (429 until then).
    next_allowed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
