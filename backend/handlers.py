"""Exception handlers: every error the API answers is a problem detail with a reason.

Domain errors carry their own status and reason; validation errors are cut to a
few entries without the input (an attacker's 300,000 unknown keys must not come
back as 300,000 error objects); the framework's own 404 and 405 get the same
shape, the 405 with an ``Allow`` header built from every route of that path.
Anything unexpected is answered by ``backend.middleware.errors``.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Mount, Route, compile_path

from backend.errors import DomainError
from backend.problem import problem

#: Validation errors listed in a 422; the count of all of them is given too.
MAX_ERRORS = 20
#: Longest text kept of an error's location part or message.
MAX_TEXT = 120

_REASONS = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


async def domain_error(_request: Request, exc: Exception) -> JSONResponse:
    """Map a ``DomainError`` to its status, with the headers its status calls for."""
    assert isinstance(exc, DomainError)
    headers = {}
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return problem(exc.status_code, exc.message, exc.reason, headers=headers or None)


def _short(value: Any) -> str | int:
    if isinstance(value, int):
        return value
    text = str(value)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 with the first ``MAX_ERRORS`` errors; inputs are never echoed."""
    assert isinstance(exc, RequestValidationError)
    raw: list[dict[str, Any]] = list(exc.errors())
    errors: list[dict[str, Any]] = [
        {
            "loc": [_short(p) for p in e.get("loc", ())],
            "msg": _short(e.get("msg", "")),
            "type": _short(e.get("type", "")),
        }
        for e in raw[:MAX_ERRORS]
    ]
    first: dict[str, Any] = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"])
    return problem(
        422, f"{where}: {first['msg']}", "validation_error", errors=errors, error_count=len(raw)
    )


_VERBS = {"get", "put", "post", "delete", "patch", "head", "options"}


def _method_table(app: FastAPI) -> list[tuple[re.Pattern[str], set[str]]]:
    # Built once from the OpenAPI paths (routes of included routers) and the
    # app's own routes (those left out of the schema, like ``/``).
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(app.state, "allow_table", None)
    if table is None:
        table = []
        for path, operations in app.openapi().get("paths", {}).items():
            methods = {verb.upper() for verb in operations if verb in _VERBS}
            table.append((compile_path(path)[0], methods))
        for route in app.routes:
            if isinstance(route, Route) and route.methods:
                table.append((route.path_regex, set(route.methods)))
            elif isinstance(route, Mount):  # the pages: static files
                table.append((re.compile(re.escape(route.path) + "(/.*)?$"), {"GET", "HEAD"}))
        app.state.allow_table = table
    return table


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the request's path accepts (Starlette names only one route)."""
    methods: set[str] = set()
    for regex, verbs in _method_table(request.app):
        if regex.match(request.url.path):
            methods |= verbs
    return sorted(methods)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """The framework's own errors (unknown path, wrong method, bad body) as problems."""
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    reason = _REASONS.get(status, "http_error")
    headers = dict(exc.headers or {})
    if status == 404:
        detail = "there is nothing at this path"
    elif status == 405:
        allow = allowed_methods(request)
        headers["Allow"] = ", ".join(allow)
        detail = f"{request.method} is not allowed here; use {' or '.join(allow) or 'nothing'}"
    else:
        detail = str(exc.detail)[:200]
    return problem(status, detail, reason, headers=headers or None)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
