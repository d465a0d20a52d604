"""Engine, session factory and declarative base shared by every domain."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool

from backend.database_limits import DatabaseLimits

#: Stable constraint names, so later Alembic migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of all backend tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(busy_ms: int) -> Any:
    # WAL lets the signage readers run while a write is in progress; SQLite
    # leaves foreign keys off unless asked on every connection.
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.close()

    return on_connect


#: The limits each engine was made with (the SQLite writer queue reads its wait there).
_LIMITS: WeakKeyDictionary[Engine, DatabaseLimits] = WeakKeyDictionary()


def limits_of(engine: Engine) -> DatabaseLimits:
    """Return the limits an engine was made with (defaults for a foreign engine)."""
    return _LIMITS.get(engine) or DatabaseLimits()


def make_engine(database_url: str, limits: DatabaseLimits | None = None) -> Engine:
    """Build an engine for SQLite (WAL, foreign keys) or PostgreSQL (psycopg 3).

    Every wait is bounded (see ``backend.database_limits``): the pool checkout by
    ``pool_timeout``, and on PostgreSQL each lock and statement by session settings.
    The backend passes its settings' limits; tools get the defaults.

    No ping before each checkout (it was a round trip per request, 8 % of a booking's
    time under load): a connection the server dropped fails its statement, SQLAlchemy
    then discards the whole pool, and the request answers 503 ``database_unavailable``
    with ``Retry-After`` (``busy_error``); the retry gets a fresh connection.
    """
    limits = limits or DatabaseLimits()
    url = make_url(database_url)
    pooled: dict[str, Any] = {
        "pool_size": limits.pool_size,
        "max_overflow": limits.max_overflow,
        "pool_timeout": limits.pool_timeout_s,
    }
    if url.get_backend_name() == "sqlite":
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if url.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool
        else:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs.update(pooled)
        # hide_parameters: an error's text must not carry a person's name or title.
        engine = create_engine(url, hide_parameters=True, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas(limits.lock_timeout_ms))
    else:
        connect_args = {"options": limits.postgres_options()}
        engine = create_engine(url, hide_parameters=True, connect_args=connect_args, **pooled)
    _LIMITS[engine] = limits
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory every request and background job uses."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def import_models() -> None:
    """Import every model module, which registers its tables on ``Base.metadata``."""
    from backend.auth import models as _auth_models  # noqa: F401
    from backend.bookings import models as _booking_models  # noqa: F401
    from backend.facility import models as _facility_models  # noqa: F401
    from backend.people import models as _people_models  # noqa: F401
    from backend.plans import models as _plan_models  # noqa: F401
    from backend.spaces import models as _space_models  # noqa: F401
    from backend.teams import models as _team_models  # noqa: F401


def create_all(engine: Engine) -> None:
    """Create every table straight from the models (tests and tools; the app migrates)."""
    import_models()
    Base.metadata.create_all(engine)


def alembic_config(connection: Any = None) -> Any:
    """Return an Alembic config for ``backend/migrations`` bound to a connection."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    return config


def lift_request_bounds(conn: Any) -> None:
    """Let this transaction run long and wait longer for locks (migrations, not requests).

    A migration may rewrite a large table, or wait for another replica's migration;
    the per-session bounds of ``backend.database_limits`` are meant for requests.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
        conn.exec_driver_sql("SET LOCAL lock_timeout = '60s'")


def migrate(engine: Engine) -> str:
    """Bring the schema to the newest revision; return what was done.

    A database made by ``create_all`` before migrations existed has tables but no
    ``alembic_version``: it is stamped with the newest revision instead.
    """
    from alembic import command
    from sqlalchemy import inspect

    with engine.begin() as conn:
        lift_request_bounds(conn)
        config = alembic_config(conn)
        tables = set(inspect(conn).get_table_names())
        if "site" in tables and "alembic_version" not in tables:
            command.stamp(config, "head")
            return "stamped"
        command.upgrade(config, "head")
        return "upgraded"
