"""FastAPI dependencies shared by all routers: runtime, DB session, token checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from backend.auth import service as auth_service
from backend.auth.models import ApiToken
from backend.errors import Forbidden

if TYPE_CHECKING:
    from backend.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    """Return the app's runtime (set up by the lifespan)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated["Runtime", Depends(get_runtime)]


def get_session(request: Request) -> Iterator[Session]:
    """Yield one session per request, closed afterwards."""
    with get_runtime(request).session_factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def get_token(
    request: Request,
    token: Annotated[str | None, Query(description="for EventSource (no headers)")] = None,
) -> ApiToken:
    """Authenticate a bearer header or, for EventSource, a ``?token=`` query parameter."""
    # A short session of its own: a request-scoped one would hold a pooled
    # connection for the whole life of an SSE stream.
    with get_runtime(request).session_factory() as session:
        return auth_service.authenticate(session, _bearer(request) or token)


def require_role(*roles: str) -> Callable[[ApiToken], ApiToken]:
    """Build a dependency that lets only the given roles through (403 otherwise)."""

    def check(token: Annotated[ApiToken, Depends(get_token)]) -> ApiToken:
        if token.role not in roles:
            raise Forbidden(
                f"role {token.role!r} may not do this; it needs {' or '.join(roles)}",
                reason="role_not_allowed",
            )
        return token

    return check


ReaderDep = Annotated[ApiToken, Depends(require_role("admin", "signage"))]
AdminDep = Annotated[ApiToken, Depends(require_role("admin"))]
