"""The OpenAPI document says every status a route can answer, as a problem detail.

FastAPI lists only a route's success and 422. The error answers come from a few
shared places (token check, domain errors, the request guard), so they are added
here by rule rather than on each route: an authenticated route can answer 401
and 403, a route that names objects 404, a write 409 and 413, and so on. Every
error is ``application/problem+json`` with the ``Problem`` schema.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from backend.problem import MEDIA_TYPE

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "reason"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "reason": {"type": "string"},
    },
}

TEXTS = {
    "400": "The request body cannot be read (not UTF-8 or not JSON)",
    "401": "No token, or an unknown, revoked or expired one",
    "403": "The token's role may not do this",
    "404": "Something named in the request does not exist",
    "409": "The request clashes with what is stored",
    "413": "The request body is larger than the limit",
    "422": "The request is invalid (with a reason)",
    "429": "Too many attempts; wait for Retry-After",
    "500": "The server failed; nothing internal is shown",
    "503": "A capacity limit or a dependency is unavailable; wait for Retry-After",
}
_WRITES = {"post", "put", "patch", "delete"}
#: The ``content`` of an error answer; routes that declare their own errors use it too.
PROBLEM_CONTENT = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def statuses(path: str, method: str, operation: dict[str, Any]) -> set[str]:
    """Return the error statuses one operation can answer."""
    found = {"422", "500"}
    if operation.get("security"):
        found |= {"401", "403", "404"}
    if operation.get("parameters") or "{" in path:
        found.add("404")
    if method in _WRITES and operation.get("security"):
        found.add("409")
    if "requestBody" in operation:
        found.add("400")
    if "requestBody" in operation or method in _WRITES:
        found.add("413")
    if path.startswith("/api/v1/auth/"):
        found |= {"401", "429"}
    if path in ("/api/v1/auth/oidc", "/api/v1/stream") or path.startswith("/api/v1/facility/"):
        found.add("503")
    if path == "/api/v1/stream":
        found |= {"401", "403", "429"}
    return found


def _offers_csv(operation: dict[str, Any]) -> bool:
    # Facility reports answer ``?format=csv`` with a CSV file instead of JSON.
    for parameter in operation.get("parameters", ()):
        if parameter.get("name") == "format" and "csv" in str(parameter.get("schema")):
            return True
    return False


def build(app: FastAPI) -> dict[str, Any]:
    """Generate the document and add the error answers of every operation."""
    schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if _offers_csv(operation):
                ok = responses.get("200", {}).setdefault("content", {})
                ok["text/csv"] = {"schema": {"type": "string"}}
            for status in sorted(statuses(path, method, operation)):
                responses[status] = {"description": TEXTS[status], "content": PROBLEM_CONTENT}
    return schema


def install_openapi(app: FastAPI) -> None:
    """Serve the extended document at ``/openapi.json`` (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
