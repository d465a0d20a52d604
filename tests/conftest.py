"""Fixtures that start the real services every integration test talks to."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.services import (
    InfluxDB,
    Mosquitto,
    PostgreSQL,
    ServiceError,
    make_tempdir,
    require_binary,
)

REPO = Path(__file__).resolve().parent.parent
CONTRACTS = REPO / "tests" / "contracts" / "v1"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def pytest_configure(config: pytest.Config) -> None:
    """Make the folder every worker of this run shares (see ``tests/deploy/stack.py``).

    The controller makes it before pytest-xdist starts the workers, which inherit
    the variable; a worker or a plain run without one makes its own.
    """
    from tests.deploy.stack import SHARED_DIR_VAR

    if config.getoption("dist", "no") == "loadgroup" and pytest.version_tuple[:2] >= (9, 2):
        # pytest 9.2 builds test ids another way, and pytest-xdist 3.8's loadgroup then
        # silently stops grouping (its issue 1386): every module-scoped world of an
        # ``xdist_group`` was built on several workers, minutes of CPU unnoticed.
        raise pytest.UsageError(
            f"pytest {pytest.__version__} breaks pytest-xdist's --dist loadgroup (xdist "
            "issue 1386): install the pytest that constraints.txt names (make test does)"
        )
    if not os.environ.get(SHARED_DIR_VAR):
        path = make_tempdir("run")
        os.environ[SHARED_DIR_VAR] = str(path)
        config.stash[_OWN_SHARED_DIR] = path


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the shared folder, by the process that made it."""
    path = config.stash.get(_OWN_SHARED_DIR, None)
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)


_OWN_SHARED_DIR = pytest.StashKey[Path]()


@pytest.fixture(autouse=True)
def _root_logger_as_before() -> Iterator[None]:
    """Put the root logger's own handlers and level back after each test.

    A test that runs an entry point in-process (``cli.main``) sets up logging as the
    command does: a handler on the ``sys.stderr`` of that moment, which under ``capsys``
    is a stream closed after the test. Every later log line of that worker then failed
    with "Logging error ... I/O operation on closed file" (seen in full runs). pytest's
    own capture handlers come and go by themselves and are left alone.
    """
    root = logging.getLogger()

    def own(handlers: list[logging.Handler]) -> list[logging.Handler]:
        return [h for h in handlers if not type(h).__module__.startswith("_pytest")]

    before, level = own(root.handlers), root.level
    yield
    for handler in own(root.handlers):
        if handler not in before:
            root.removeHandler(handler)
    for handler in before:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[Mosquitto]:
    """A private Mosquitto for the whole test session."""
    broker = Mosquitto(workdir=make_tempdir("mosquitto"))
    broker.start()
    yield broker
    broker.stop()
    shutil.rmtree(broker.workdir, ignore_errors=True)


@pytest.fixture
def mosquitto_factory() -> Iterator[Callable[[], Mosquitto]]:
    """Make fresh private brokers (for restart and outage tests); all stopped afterwards."""
    made: list[Mosquitto] = []

    def make() -> Mosquitto:
        broker = Mosquitto(workdir=make_tempdir("mosquitto"))
        broker.start()
        made.append(broker)
        return broker

    yield make
    for broker in made:
        broker.stop()
        shutil.rmtree(broker.workdir, ignore_errors=True)


@dataclass(frozen=True)
class Pki:
    """A CA with a broker certificate for ``localhost``/127.0.0.1, and a second, foreign CA."""

    dir: Path
    other_dir: Path

    @property
    def ca_pem(self) -> Path:
        return self.dir / "ca.crt"

    @property
    def ca_der(self) -> Path:
        return self.dir / "ca.der"


@pytest.fixture(scope="session")
def pki() -> Iterator[Pki]:
    """Made with ``werkplek pki`` as an operator would (one per test worker)."""
    from werkplek import pki as werkplek_pki

    root = make_tempdir("pki")
    made = Pki(root / "ca", root / "other")
    for directory, name in ((made.dir, "Werkplek test CA"), (made.other_dir, "Foreign CA")):
        werkplek_pki.create_ca(directory, name)
        werkplek_pki.issue(directory, "broker", ["localhost", "127.0.0.1"])
    yield made
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def tls_mosquitto(pki: Pki) -> Iterator[Mosquitto]:
    """A private Mosquitto with a TLS listener (``tls_port``) besides its plain one."""
    broker = Mosquitto(workdir=make_tempdir("mosquitto-tls"), tls_dir=pki.dir)
    broker.start()
    yield broker
    broker.stop()
    shutil.rmtree(broker.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def influxdb() -> Iterator[InfluxDB]:
    """A private InfluxDB 1.x for the whole test session."""
    server = InfluxDB(workdir=make_tempdir("influxdb"))
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.workdir, ignore_errors=True)


@dataclass(frozen=True)
class InfluxDatabase:
    """One fresh database on the session's InfluxDB."""

    server: InfluxDB
    database: str

    @property
    def url(self) -> str:
        """Base URL of the HTTP API."""
        return self.server.url

    def query(self, q: str) -> dict[str, Any]:
        """Run InfluxQL against this database."""
        return self.server.query(q, db=self.database)


@pytest.fixture
def influx_db(influxdb: InfluxDB) -> Iterator[InfluxDatabase]:
    """A fresh, empty database, dropped after the test."""
    if not influxdb.ping():
        # A test may have stopped the server to simulate an outage.
        influxdb.start()
    name = influxdb.create_database()
    yield InfluxDatabase(server=influxdb, database=name)
    if influxdb.ping():
        influxdb.query(f'DROP DATABASE "{name}"')


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """SQLAlchemy URL of a fresh PostgreSQL database.

    ``WERKPLEK_TEST_DATABASE_URL`` names a server to use instead of a throwaway
    cluster; a fresh database is created on it either way and dropped at the end.
    """
    import sqlalchemy as sa

    external = os.environ.get("WERKPLEK_TEST_DATABASE_URL")
    cluster: PostgreSQL | None = None
    if external:
        admin_url = external
    else:
        cluster = PostgreSQL(workdir=make_tempdir("postgres"))
        cluster.start()
        admin_url = cluster.url
    name = "werkplek_test_" + uuid.uuid4().hex[:10]
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    if cluster is not None:
        cluster.stop()
        shutil.rmtree(cluster.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def micropython_bin() -> str:
    """Path of the MicroPython unix port (installed from PyPI into the venv)."""
    beside = Path(sys.executable).parent / "micropython"
    return require_binary("micropython", str(beside))


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of Debian's Chromium (never a browser downloaded by Playwright)."""
    return require_binary("chromium", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """A headless Chromium driven by Playwright for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        try:
            instance = pw.chromium.launch(
                executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
            )
        except Exception as exc:  # noqa: BLE001 - turn any launch failure into a clear error
            raise ServiceError(f"Chromium did not start: {exc}") from exc
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser page (own context: no shared cookies or storage)."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="nl-NL")
    pg = context.new_page()
    yield pg
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Let a test (and its fixtures) call ``asyncio.run`` while this worker's browser lives.

    Playwright's sync API leaves its event loop marked as running in the main
    thread for as long as the session's browser lives, so ``asyncio.run`` in any
    later test of the same worker would fail ("cannot be called from a running
    event loop"), whatever order the tests come in. Playwright only drives that
    loop inside its own calls, so a test that does not use the browser runs
    without the mark (setup, call and teardown); it is put back after.
    """
    import asyncio.events

    if {"browser", "page"} & set(getattr(item, "fixturenames", ())):
        return (yield)
    held = asyncio.events._get_running_loop()
    if held is not None:
        asyncio.events._set_running_loop(None)
    try:
        return (yield)
    finally:
        if held is not None:
            asyncio.events._set_running_loop(held)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start the long tests first, so none of them is left running alone at the end.

    pytest-xdist hands tests out in this order (after whole ``xdist_group``s, largest
    first): a 90 s test started last would keep one worker busy while the others wait.
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
