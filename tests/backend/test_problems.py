"""Every error is a problem detail: unknown paths, wrong methods, NUL bytes, huge numbers.

Before, these gave the framework's own JSON, a wrong ``Allow`` header or a 500 in
``text/plain``; now each is ``application/problem+json`` with a reason, and an
unexpected exception is a 500 problem that shows nothing internal.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import DataError

from backend.main import create_app
from tests.backend.conftest import SeededDb, bearer

PROBLEM = "application/problem+json"


def _problem(response: Any, status: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["reason"] == reason
    assert {"type", "title", "detail"} <= body.keys()
    return body


def test_unknown_path_and_wrong_method(api: TestClient) -> None:
    _problem(api.get("/api/v1/nothing-here"), 404, "not_found")
    _problem(api.get("/signage/missing.js"), 404, "not_found")
    for method, path, allow in [
        ("PUT", "/api/v1/me", "GET, PATCH"),
        ("GET", "/api/v1/auth/login", "POST"),
        ("DELETE", "/healthz", "GET"),
        ("POST", "/signage/index.html", "GET, HEAD"),
    ]:
        answer = api.request(method, path)
        _problem(answer, 405, "method_not_allowed")
        assert answer.headers["allow"] == allow, path


def test_nul_characters_are_refused_before_login(api: TestClient, seeded: SeededDb) -> None:
    admin = bearer(seeded.admin_token)
    _problem(api.get("/api/v1/floors/a%00b/spaces", headers=admin), 422, "nul_character")
    _problem(api.get("/api/v1/availability?site=h%00q", headers=admin), 422, "nul_character")
    login = api.post(
        "/api/v1/auth/login",
        content=b'{"username": "a\\u0000b", "password": "xxxxxxxxxxxx"}',
        headers={"Content-Type": "application/json"},
    )
    _problem(login, 422, "nul_character")
    # An escaped backslash followed by "u0000" is text, not a NUL.
    login = api.post(
        "/api/v1/auth/login",
        content=b'{"username": "a\\\\u0000b", "password": "xxxxxxxxxxxx"}',
        headers={"Content-Type": "application/json"},
    )
    _problem(login, 401, "bad_credentials")


def test_numbers_and_dates_out_of_range(api: TestClient, seeded: SeededDb) -> None:
    admin = bearer(seeded.admin_token)
    # Refused by validation: the OpenAPI says ids are at most 2**31 - 1.
    _problem(api.get("/api/v1/bookings/99999999999999999999", headers=admin), 422,
             "validation_error")  # fmt: skip
    _problem(api.get("/api/v1/bookings?user_id=2147483648", headers=admin), 422,
             "validation_error")  # fmt: skip
    for start, end in [
        ("9999-12-31T23:00:00+00:00", "9999-12-31T23:30:00+00:00"),
        ("0001-01-01T00:00:00", "0001-01-01T00:30:00"),
    ]:
        answer = api.post(
            "/api/v1/bookings",
            json={"space_id": "hq.1.r-02", "start": start, "end": end},
            headers=admin,
        )
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == PROBLEM


def test_repeated_weekday_is_refused(api: TestClient, seeded: SeededDb) -> None:
    days = [{"weekday": 1, "opens": "08:00", "closes": "18:00"}] * 2
    answer = api.put("/api/v1/sites/hq/opening-hours", json=days,
                     headers=bearer(seeded.admin_token))  # fmt: skip
    _problem(answer, 422, "repeated_weekday")


def test_unexpected_error_is_a_500_problem_without_internals(
    seeded: SeededDb, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(seeded.settings())
    carried = "-".join(["secret", "booking", "title"])  # data, not in any source line

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError(carried)

    @app.get("/too-big")
    def too_big() -> None:  # what the database says to a number its column cannot hold
        raise DataError("INSERT ...", {}, ValueError("integer out of range"))

    caplog.set_level(logging.INFO)
    with TestClient(app, raise_server_exceptions=False) as client:
        _problem(client.get("/too-big"), 422, "value_out_of_range")
        answer = client.get("/boom")
    body = _problem(answer, 500, "internal_error")
    assert "secret" not in answer.text and "RuntimeError" not in answer.text
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert "RuntimeError" in caplog.text  # the log says what failed ...
    assert "secret-booking-title" not in caplog.text  # ... but not the data it carried
    assert body["detail"]


def test_openapi_declares_errors_and_bearer(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    me = schema["paths"]["/api/v1/me"]["get"]
    assert me["security"] == [{"HTTPBearer": []}]
    assert {"401", "403", "404", "422", "500"} <= me["responses"].keys()
    assert PROBLEM in me["responses"]["401"]["content"]
    login = schema["paths"]["/api/v1/auth/login"]["post"]
    assert {"400", "401", "413", "422", "429"} <= login["responses"].keys()
    assert "security" not in login


def test_a_time_range_needs_both_ends(api: TestClient, seeded: SeededDb) -> None:
    # Found by Schemathesis: an end without a start was an assertion error (500).
    answer = api.get("/api/v1/availability/at?site=hq&end=2030-01-07T10:00:00",
                     headers=bearer(seeded.admin_token))  # fmt: skip
    _problem(answer, 422, "bad_window")
