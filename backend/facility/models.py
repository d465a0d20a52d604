"""The one table of the facility domain: when a space was last cleaned.

A mark says which space was cleaned and when, and by which role: never by
which person, so cleaning records cannot be used to follow a cleaner around.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.database import Base
from backend.types import UtcDateTime


class CleaningMark(Base):
    """One "cleaned" tap on the cleaning list."""

    __tablename__ = "cleaning_mark"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    cleaned_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    role: Mapped[str] = mapped_column(String(20))
