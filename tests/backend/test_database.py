"""Database set-up: SQLite pragmas, naming convention, token roles."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from backend.auth import service as auth_service
from backend.database import Base, create_all, make_engine, make_session_factory
from backend.errors import InvalidInput
from backend.spaces.models import Device


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/sub/dir/w.sqlite3")  # folders are created
    try:
        create_all(engine)
        with engine.connect() as conn:
            assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        with make_session_factory(engine)() as session:
            session.add(Device(id="d-0001", site_id="nowhere", source="pir"))
            with pytest.raises(sa.exc.IntegrityError):
                session.commit()
    finally:
        engine.dispose()


def test_constraints_follow_the_naming_convention():
    create_all(make_engine("sqlite://"))
    names = {fk.name for fk in Base.metadata.tables["device"].foreign_key_constraints}
    assert names == {"fk_device_site_id_site", "fk_device_space_id_space"}
    assert Base.metadata.tables["api_token"].primary_key.name == "pk_api_token"


def test_unknown_role_is_refused(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/w.sqlite3")
    create_all(engine)
    with make_session_factory(engine)() as session, pytest.raises(InvalidInput):
        auth_service.create_token(session, "superuser", "nope")
    engine.dispose()
