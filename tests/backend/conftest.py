"""Fixtures of the backend tests: a database on SQLite and PostgreSQL, apps and servers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from fastapi.testclient import TestClient

from backend.auth import service as auth_service
from backend.config import Settings
from backend.database import Base, create_all, make_engine, make_session_factory
from backend.main import create_app
from backend.seed import seed_demo
from tests.services import free_port, wait_until


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)],
)
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """An empty database: a SQLite file, or the session's PostgreSQL wiped for this test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/werkplek.sqlite3"
        return
    url: str = request.getfixturevalue("pg_url")
    engine = make_engine(url)
    create_all(engine)
    Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    yield url


@dataclass
class SeededDb:
    """A database holding the sample municipality and two tokens."""

    url: str
    admin_token: str
    signage_token: str

    def settings(self, **overrides: Any) -> Settings:
        """Backend settings for this database (no broker unless given)."""
        values: dict[str, Any] = {"database_url": self.url, "mqtt_enabled": False}
        values.update(overrides)
        return Settings(**values)

    def query(self, statement: str) -> list[Any]:
        """Run raw SQL, for assertions on what was stored."""
        engine = make_engine(self.url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(sa.text(statement)).all())
        finally:
            engine.dispose()


@pytest.fixture
def seeded(db_url: str) -> SeededDb:
    """Tables, the sample municipality and an admin and a signage token."""
    engine = make_engine(db_url)
    try:
        create_all(engine)
        with make_session_factory(engine)() as session:
            seed_demo(session)
            admin = auth_service.create_token(session, "admin", "test admin")
            signage = auth_service.create_token(session, "signage", "test screen")
    finally:
        engine.dispose()
    return SeededDb(db_url, admin, signage)


@pytest.fixture
def api(seeded: SeededDb) -> Iterator[TestClient]:
    """A TestClient with the app's lifespan running, without a broker."""
    with TestClient(create_app(seeded.settings())) as client:
        yield client


@dataclass
class LiveServer:
    """A backend served by uvicorn in a thread, as browsers and SSE clients need."""

    base_url: str
    app: Any
    server: uvicorn.Server

    @property
    def runtime(self) -> Any:
        """The app's runtime (hub, live state, publisher)."""
        return self.app.state.runtime


@pytest.fixture
def serve() -> Iterator[Callable[[Settings], LiveServer]]:
    """Start backends on free ports; all are stopped at teardown."""
    started: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(settings: Settings) -> LiveServer:
        """Serve an app built from ``settings``."""
        port = free_port()
        app = create_app(settings)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
        thread.start()
        started.append((server, thread))
        wait_until(lambda: server.started, timeout=15, what="uvicorn started")
        return LiveServer(f"http://127.0.0.1:{port}", app, server)

    yield start
    for server, thread in started:
        server.should_exit = True  # stop accepting first, so no EventSource reconnects
        time.sleep(0.15)
        server.config.app.state.runtime.close_streams()
        thread.join(timeout=10)


def bearer(token: str) -> dict[str, str]:
    """Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def now_ms() -> int:
    """Wall-clock time in ms (the contract's unit)."""
    return int(time.time() * 1000)


@dataclass
class Person:
    """A user of the seeded database and a session token of theirs."""

    id: int
    token: str


@pytest.fixture
def people(seeded: SeededDb) -> Iterator[Callable[..., Person]]:
    """Create users with session tokens: ``people("employee", "ann")``."""
    from backend.people import service as people_service

    engine = make_engine(seeded.url)
    factory = make_session_factory(engine)

    def make(role: str = "employee", name: str | None = None) -> Person:
        with factory() as session:
            user = people_service.create_user(
                session,
                username=name or f"u-{time.monotonic_ns()}",
                display_name=(name or "test").title(),
                role=role,
            )
            token, _ = people_service.issue_session(session, user, hours=1)
            return Person(user.id, token)

    yield make
    engine.dispose()


def always_open(url: str, sites: tuple[str, ...] = ("hq", "dalfsen"), **policy: Any) -> None:
    """Open every site all week 00:00-23:59 and apply policy overrides (for tests at any hour)."""
    from datetime import time as clock

    from backend.bookings import policy as policies
    from backend.bookings.schemas import OpeningDay, PolicyPublic

    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            for site in sites:
                days = [
                    OpeningDay(weekday=d, opens=clock(0), closes=clock(23, 59)) for d in range(7)
                ]
                policies.set_opening_hours(session, site, days, "test")
                policies.set_policy(session, site, PolicyPublic(**policy), "test")
    finally:
        engine.dispose()
