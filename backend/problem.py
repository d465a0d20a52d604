"""RFC 9457 problem details: the one shape of every error answer of the API.

``reason`` is our stable machine-readable code; ``type`` is built from it so a
client can switch on either. The helpers here are shared by the exception
handlers in ``backend.main`` and the ASGI middlewares, which answer before any
route runs.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://werkplek.example/problems/"


def problem_body(status: int, detail: str, reason: str, **extra: Any) -> dict[str, Any]:
    """Return the JSON body of a problem."""
    return {
        "type": TYPE_BASE + reason,
        "title": reason.replace("_", " "),
        "status": status,
        "detail": detail,
        "reason": reason,
        **extra,
    }


def problem(
    status: int, detail: str, reason: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """Return a problem response."""
    return JSONResponse(
        problem_body(status, detail, reason, **extra),
        status_code=status,
        headers=headers,
        media_type=MEDIA_TYPE,
    )


async def send_problem(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    detail: str,
    reason: str,
    headers: dict[str, str] | None = None,
) -> None:
    """Answer an ASGI request with a problem (for middlewares, before the app runs)."""
    await problem(status, detail, reason, headers)(scope, receive, send)
