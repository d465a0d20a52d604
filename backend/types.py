"""Column types shared by the domains."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator

#: The largest id an ``Integer`` primary key holds (PostgreSQL ``integer``); ids in
#: requests are bounded by it, so a larger number is a 422 rather than a database error.
MAX_ROW_ID = 2**31 - 1


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC timestamp on every database.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so values are stored
    as naive UTC in one fixed text format, which keeps text comparison (used by the
    no-overlap trigger) equal to time comparison.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; convert to UTC (naive UTC on SQLite)."""
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"an aware datetime is required, got {value!r}")
        utc: datetime = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
