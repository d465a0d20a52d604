"""Typed wrapper around SQLAlchemy's untyped ``DDL`` construct."""

from __future__ import annotations

from typing import Any

from sqlalchemy import schema


def ddl(statement: str) -> Any:
    """Return a DDL element for ``statement`` (for ``event.listen`` and ``execute_if``)."""
    return schema.DDL(statement)  # type: ignore[no-untyped-call]
