"""Alembic migrations build exactly the schema of the models, rules included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from backend.database import Base, alembic_config, create_all, import_models, make_engine, migrate


def test_migrations_match_the_models_and_keep_the_no_overlap_rule(db_url):
    engine = make_engine(db_url)
    try:
        assert migrate(engine) == "upgraded"
        assert migrate(engine) == "upgraded"  # idempotent: already at head
        import_models()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        s0 = datetime(2030, 1, 7, 9, tzinfo=UTC)
        insert = sa.text(
            "INSERT INTO booking (space_id, site_id, space_kind, start_at, end_at, local_day, "
            "status, sensor_fallback, created_at) VALUES ('s', 'x', 'desk', :s, :e, :d, "
            "'booked', false, :s)"
        )
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO site (id, name, kind, timezone, created_at) "
                                 "VALUES ('x', 'X', 'satellite', 'Europe/Amsterdam', :t)"),
                         {"t": s0})  # fmt: skip
            conn.execute(sa.text("INSERT INTO floor (id, site_id, name, level, plan_width, "
                                 "plan_height, created_at) VALUES ('f', 'x', 'F', 0, 1, 1, :t)"),
                         {"t": s0})  # fmt: skip
            conn.execute(sa.text("INSERT INTO space (id, site_id, floor_id, kind, name, quiet, "
                                 "capacity, standing, screen, accessible, x, y, w, h, created_at) "
                                 "VALUES ('s', 'x', 'f', 'desk', 'S', false, 1, false, false, "
                                 "false, 0, 0, 1, 1, :t)"), {"t": s0})  # fmt: skip
            conn.execute(insert, {"s": s0, "e": s0 + timedelta(hours=2), "d": s0.date()})
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            later = s0 + timedelta(hours=1)
            conn.execute(insert, {"s": later, "e": later + timedelta(hours=2), "d": s0.date()})
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_database_made_before_migrations_is_stamped(db_url):
    engine = make_engine(db_url)
    try:
        create_all(engine)
        assert migrate(engine) == "stamped"
        assert migrate(engine) == "upgraded"
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
