"""A production-like InfluxDB 1.x for the deployment tests: authentication on."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.backend.conftest import db_url, seeded  # noqa: F401 - the facility tests' database
from tests.services import InfluxDB, make_tempdir

ADMIN = ("admin", "admin-secret")


@pytest.fixture(scope="session")
def influxdb_auth() -> Iterator[InfluxDB]:
    """InfluxDB with auth on and retention enforced every second (default 30 min)."""
    server = InfluxDB(workdir=make_tempdir("influxdb-auth"), admin=ADMIN, retention_check="1s")
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.workdir, ignore_errors=True)
