"""No secrets or personal data in logs and error details.

Before, the access log wrote refused ``?token=`` URLs and calendar-feed URLs in
full, database errors carried their SQL parameters (usernames, booking titles),
one error detail showed the history store's file path and OpenID Connect errors
echoed the library's text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from backend.database import make_engine
from backend.facility.router import history_source
from history.facility import SqliteSource
from tests.backend.conftest import LiveServer, SeededDb, bearer
from tests.services import wait_until

ON_POSTGRESQL = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


class Lines(logging.Handler):
    """Collects formatted log lines."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the line."""
        self.lines.append(record.getMessage())


@pytest.fixture
def access_log() -> Iterator[Lines]:
    """uvicorn's access log at INFO, captured (the filter sits on its logger).

    Attach it after the server started: uvicorn's own log set-up replaces the
    logger's handlers (but keeps its filters).
    """
    logger = logging.getLogger("uvicorn.access")
    before = logger.level
    lines = Lines()
    yield lines
    logger.removeHandler(lines)
    logger.setLevel(before)


@ON_POSTGRESQL
def test_access_log_has_no_tokens(
    seeded: SeededDb, serve: Callable[..., LiveServer], access_log: Lines
) -> None:
    server = serve(seeded.settings())
    logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    logging.getLogger("uvicorn.access").addHandler(access_log)
    secret = seeded.admin_token
    feed = "cf1." + "x" * 43
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        assert client.get("/api/v1/sites", params={"token": secret}).status_code == 401
        assert client.get(f"/api/v1/calendar/{feed}.ics").status_code == 404
        stream_token = client.post("/api/v1/stream-tokens", headers=bearer(secret)).json()
        answer = client.get(
            "/api/v1/availability",
            params={"site": "hq", "stream_token": stream_token["stream_token"]},
            headers=bearer(secret),
        )
        assert answer.status_code == 200
    wait_until(lambda: len(access_log.lines) >= 4, timeout=10, what="access log lines")
    text = "\n".join(access_log.lines)
    assert secret not in text and feed not in text
    assert stream_token["stream_token"] not in text
    assert "/api/v1/calendar/[redacted].ics" in text
    assert "site=hq" in text  # harmless filters stay readable
    assert "token=[redacted]" in text


@ON_POSTGRESQL
def test_database_errors_carry_no_parameters(seeded: SeededDb) -> None:
    # SQLAlchemy lists a failed statement's parameters in the error text unless told
    # not to. (The database's own message may still quote a value, which is why the
    # catch-all logs no exception messages at all: tests/backend/test_problems.py.)
    engine = make_engine(seeded.url)
    try:
        with pytest.raises(sa.exc.DBAPIError) as caught, engine.connect() as conn:
            conn.execute(sa.text("SELECT :title FROM no_such_table"), {"title": "alice's secret"})
    finally:
        engine.dispose()
    assert "alice's secret" not in str(caught.value)
    assert "parameters hidden" in str(caught.value)


def test_error_details_show_no_paths_or_library_text(
    seeded: SeededDb, serve: Callable[..., LiveServer], tmp_path: Path
) -> None:
    server = serve(
        seeded.settings(
            oidc_issuer="https://idp.example",
            oidc_audience="werkplek",
            oidc_jwks_url="http://127.0.0.1:9/jwks",
        )
    )
    missing = tmp_path / "secret-place" / "history.sqlite3"
    server.app.dependency_overrides[history_source] = lambda: SqliteSource(str(missing))
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        oidc = client.post("/api/v1/auth/oidc", json={"id_token": "not.a-real.token-at-all"})
        history = client.get(
            "/api/v1/facility/booked-vs-used",
            params={"start": "2030-01-01", "end": "2030-01-02"},
            headers=bearer(seeded.admin_token),
        )
    assert oidc.status_code == 401
    assert oidc.json()["detail"] == "the ID token is not valid (it cannot be read)"
    assert history.status_code == 503, history.text
    assert history.json()["reason"] == "history_unavailable"
    assert "secret-place" not in history.text and "sqlite" not in history.text.lower()
