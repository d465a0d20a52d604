"""Alembic environment: migrate the connection the backend hands over, or the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from backend.database import Base, import_models, lift_request_bounds, make_engine

config = context.config
import_models()


def _run(connection: Connection) -> None:
    # SQLite cannot ALTER most things; batch mode rebuilds tables for later migrations.
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    """Run the migrations online (there is no offline SQL mode)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from backend.config import get_settings

    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            lift_request_bounds(conn)
            _run(conn)
    finally:
        engine.dispose()


run()
