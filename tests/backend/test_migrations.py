"""Alembic migrations build exactly the schema of the models, rules included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session

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


# --- upgrade and rollback: every step of the chain, up and down, with data in it ---

#: Rows written at the first revision; every later step must keep them (tables of 0001 only).
SEEDED = {"site": 1, "floor": 1, "space": 2, "booking": 6}


def _chain() -> list[str]:
    """Revision ids from the first to the head, read from the scripts (new ones count)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1, f"more than one head: {script.get_heads()}"
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _seed_first_revision(engine: sa.Engine) -> None:
    t0 = datetime(2030, 1, 7, 9, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO site (id, name, kind, timezone, created_at) "
                "VALUES ('x', 'X', 'satellite', 'Europe/Amsterdam', :t)"
            ),
            {"t": t0},
        )
        conn.execute(
            sa.text(
                "INSERT INTO floor (id, site_id, name, level, plan_width, "
                "plan_height, created_at) VALUES ('f', 'x', 'F', 0, 1, 1, :t)"
            ),
            {"t": t0},
        )
        for space in ("s1", "s2"):
            conn.execute(
                sa.text(
                    "INSERT INTO space (id, site_id, floor_id, kind, name, quiet, "
                    "capacity, standing, screen, accessible, x, y, w, h, created_at) "
                    "VALUES (:id, 'x', 'f', 'desk', :id, false, 1, false, false, "
                    "false, 0, 0, 1, 1, :t)"
                ),
                {"id": space, "t": t0},
            )
            for day in range(3):
                start = t0 + timedelta(days=day)
                conn.execute(
                    sa.text(
                        "INSERT INTO booking (space_id, site_id, space_kind, start_at, end_at, "
                        "local_day, status, sensor_fallback, created_at) VALUES (:sp, 'x', 'desk', "
                        ":s, :e, :d, 'booked', false, :s)"
                    ),
                    {"sp": space, "s": start, "e": start + timedelta(hours=2), "d": start.date()},
                )
    # fmt: skip


def _counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table: int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in SEEDED
        }


def _step(engine: sa.Engine, action: str, revision: str) -> None:
    with engine.begin() as conn:
        getattr(command, action)(alembic_config(conn), revision)


def test_every_migration_upgrades_and_rolls_back_with_the_data_kept(db_url):
    chain = _chain()
    assert chain[0] == "0001" and len(chain) >= 2
    engine = make_engine(db_url)
    try:
        _step(engine, "upgrade", chain[0])
        _seed_first_revision(engine)
        assert _counts(engine) == SEEDED
        # Up one step at a time; after each, down one and up again (the rollback of that
        # release), the data intact every time.
        for previous, revision in zip(chain, chain[1:], strict=False):
            _step(engine, "upgrade", revision)
            assert _counts(engine) == SEEDED, f"after upgrading to {revision}"
            _step(engine, "downgrade", previous)
            assert _counts(engine) == SEEDED, f"after rolling {revision} back to {previous}"
            _step(engine, "upgrade", revision)
        # At the head the schema is the models' and the old rows read through them.
        import_models()
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        from backend.bookings.models import Booking

        with Session(engine) as session:
            bookings = session.scalars(sa.select(Booking).order_by(Booking.start_at)).all()
            assert len(bookings) == SEEDED["booking"]
            assert {b.space_id for b in bookings} == {"s1", "s2"}
            assert all(b.end_at - b.start_at == timedelta(hours=2) for b in bookings)
        # The whole way back down to the first release, the data still there.
        for previous in reversed(chain[:-1]):
            _step(engine, "downgrade", previous)
            assert _counts(engine) == SEEDED, f"after rolling back to {previous}"
    finally:
        engine.dispose()
