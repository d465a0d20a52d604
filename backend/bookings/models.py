"""Tables of bookings and site rules: policy, opening hours, holidays, booking.

No double booking, ever, is a database rule, not a check in Python:

* PostgreSQL: an exclusion constraint (btree_gist) on ``space_id`` with ``=`` and
  ``tstzrange(start_at, end_at)`` with ``&&`` over active bookings;
* SQLite: triggers that abort an insert or update overlapping an active booking.
  SQLite runs one writer at a time, so the check and the write are atomic.

"One desk per person per day" is a partial unique index on ``(user_id, day_key)``;
``day_key`` is NULL when the rule does not apply (rooms, guests, sites without it).
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.database import Base
from backend.spaces.models import utcnow
from backend.sql import ddl
from backend.types import UtcDateTime

#: Statuses that hold the space; released and cancelled bookings free it.
ACTIVE = ("booked", "checked_in")
STATUSES = (*ACTIVE, "released", "cancelled")
_ACTIVE_SQL = "status IN ('booked', 'checked_in')"


class SitePolicy(Base):
    """Booking rules of one site; a site without a row uses the defaults below."""

    __tablename__ = "site_policy"

    site_id: Mapped[str] = mapped_column(
        ForeignKey("site.id", ondelete="CASCADE"), primary_key=True
    )
    advance_days: Mapped[int] = mapped_column(Integer, default=14)
    max_minutes: Mapped[int] = mapped_column(Integer, default=600)
    one_desk_per_day: Mapped[bool] = mapped_column(Boolean, default=True)
    desk_grace_s: Mapped[int] = mapped_column(Integer, default=15 * 60)
    room_grace_s: Mapped[int] = mapped_column(Integer, default=10 * 60)
    #: A checked-in room that the sensor sees empty this long is released early.
    room_empty_release_s: Mapped[int] = mapped_column(Integer, default=20 * 60)


class OpeningHours(Base):
    """Opening hours per weekday (0 = Monday) in the site's local time."""

    __tablename__ = "opening_hours"

    site_id: Mapped[str] = mapped_column(
        ForeignKey("site.id", ondelete="CASCADE"), primary_key=True
    )
    weekday: Mapped[int] = mapped_column(Integer, primary_key=True)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)


class Holiday(Base):
    """A day a site is closed (public holiday, building maintenance)."""

    __tablename__ = "holiday"

    site_id: Mapped[str] = mapped_column(
        ForeignKey("site.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Booking(Base):
    """One booking of one space for ``[start_at, end_at)``; times are UTC."""

    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="time_order"),
        CheckConstraint(
            "status IN ('booked', 'checked_in', 'released', 'cancelled')", name="status"
        ),
        Index(
            "uq_booking_one_desk_per_day",
            "user_id",
            "day_key",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
        Index("ix_booking_space_start", "space_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id", ondelete="CASCADE"))
    site_id: Mapped[str] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    space_kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), index=True, default=None
    )
    #: Set when booked on behalf of a guest; the host is ``user_id``.
    guest_name: Mapped[str | None] = mapped_column(String(200), default=None)
    start_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    end_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    local_day: Mapped[date] = mapped_column(Date)
    day_key: Mapped[date | None] = mapped_column(Date, default=None)
    status: Mapped[str] = mapped_column(String(20), default="booked")
    checked_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    check_in_method: Mapped[str | None] = mapped_column(String(20), default=None)
    #: The sensor was offline or stale in the window: only a manual check-in counts.
    sensor_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    end_reason: Mapped[str | None] = mapped_column(String(30), default=None)
    title: Mapped[str | None] = mapped_column(String(200), default=None)
    #: Occurrences of one recurring room booking share a series id.
    series_id: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


_table = Booking.__table__
event.listen(
    _table,
    "before_create",
    ddl("CREATE EXTENSION IF NOT EXISTS btree_gist").execute_if(dialect="postgresql"),
)
event.listen(
    _table,
    "after_create",
    ddl(
        "ALTER TABLE booking ADD CONSTRAINT ex_booking_no_overlap EXCLUDE USING gist "
        "(space_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&) "
        f"WHERE ({_ACTIVE_SQL})"
    ).execute_if(dialect="postgresql"),
)
_OVERLAP = (
    "SELECT RAISE(ABORT, 'ex_booking_no_overlap') WHERE EXISTS (SELECT 1 FROM booking b "
    "WHERE b.space_id = NEW.space_id AND b.status IN ('booked', 'checked_in') "
    "AND b.start_at < NEW.end_at AND NEW.start_at < b.end_at{extra});"
)
event.listen(
    _table,
    "after_create",
    ddl(
        "CREATE TRIGGER tr_booking_no_overlap_insert BEFORE INSERT ON booking "
        "WHEN NEW.status IN ('booked', 'checked_in') BEGIN " + _OVERLAP.format(extra="") + " END"
    ).execute_if(dialect="sqlite"),
)
event.listen(
    _table,
    "after_create",
    ddl(
        "CREATE TRIGGER tr_booking_no_overlap_update "
        "BEFORE UPDATE OF space_id, start_at, end_at, status ON booking "
        "WHEN NEW.status IN ('booked', 'checked_in') BEGIN "
        + _OVERLAP.format(extra=" AND b.id <> NEW.id")
        + " END"
    ).execute_if(dialect="sqlite"),
)
