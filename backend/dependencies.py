"""FastAPI dependencies shared by all routers: runtime, DB session, token checks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import anyio
from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from backend.auth import service as auth_service
from backend.auth.models import ApiToken
from backend.database_limits import busy_error
from backend.errors import Forbidden, Unauthorized

if TYPE_CHECKING:
    from backend.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    """Return the app's runtime (set up by the lifespan)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _runtime(request: Request) -> Runtime:
    # async: FastAPI runs a plain ``def`` dependency in the thread pool, a hop per request.
    return get_runtime(request)


RuntimeDep = Annotated["Runtime", Depends(_runtime)]


async def get_session(request: Request) -> AsyncIterator[Session]:
    """Yield one session per request, closed afterwards.

    A bounded database wait that ran out anywhere in the request (pool checkout,
    lock, statement) becomes a 503 with ``Retry-After`` here, for every endpoint.

    Made on the loop (creating a session does no I/O) and closed there unless it
    still holds a connection, whose rollback runs in a thread: a plain ``def``
    dependency cost two thread-pool hops per request on the booking hot path.
    """
    session = get_runtime(request).session_factory()
    try:
        yield session
    except Exception as exc:
        busy = busy_error(exc)
        if busy is None:
            raise
        raise busy from exc
    finally:
        if session.in_transaction():
            # Its own limiter, as FastAPI does for exits: a close must never queue
            # behind requests that wait for the connection it gives back.
            await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


@contextmanager
def busy_as_503() -> Iterator[None]:
    """Turn a bounded database wait that ran out into the 503 ``get_session`` gives.

    For a route that opens its own session instead of taking ``SessionDep``.
    """
    try:
        yield
    except Exception as exc:
        busy = busy_error(exc)
        if busy is None:
            raise
        raise busy from exc


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


#: Declares the bearer scheme in the OpenAPI; the header is read by ``get_token`` itself.
BEARER = HTTPBearer(auto_error=False, description="a login session token or an API token")
BearerDoc = Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]


async def get_token(request: Request, _declared: BearerDoc) -> ApiToken:
    """Authenticate the bearer header.

    A token in the query string is not read: URLs end up in access logs,
    proxies and browser history. The push stream has its own short-lived
    stream tokens and calendar programs their own feed tokens for that.
    """
    if "token" in request.query_params:
        # Say so rather than "missing token": an old client or bookmark is the likely cause.
        raise Unauthorized(
            "send the token in the Authorization header, not in the URL", reason="token_in_url"
        )
    runtime = get_runtime(request)
    raw = _bearer(request)
    digest = auth_service.hash_token(raw) if raw else ""
    cache = runtime.tokens
    row = cache.get(digest)
    if row is not None:
        if cache.expired(row):
            cache.drop(digest)
            raise Unauthorized("the session has expired; log in again", reason="expired_token")
        return row
    row = await asyncio.to_thread(_lookup, runtime, raw)
    cache.put(digest, row)
    return row


def _lookup(runtime: Runtime, raw: str | None) -> ApiToken:
    # A short session of its own: a request-scoped one would hold a pooled
    # connection for the whole life of an SSE stream.
    with runtime.session_factory() as session:
        try:
            return auth_service.authenticate(session, raw)
        except Exception as exc:
            busy = busy_error(exc)
            if busy is None:
                raise
            raise busy from exc


def require_role(*roles: str) -> Callable[[ApiToken], Awaitable[ApiToken]]:
    """Build a dependency that lets only the given roles through (403 otherwise)."""

    async def check(token: Annotated[ApiToken, Depends(get_token)]) -> ApiToken:
        if token.role not in roles:
            raise Forbidden(
                f"role {token.role!r} may not do this; it needs {' or '.join(roles)}",
                reason="role_not_allowed",
            )
        return token

    return check


#: Every role that may read places and live availability (a door panel too).
READER_ROLES = ("admin", "facility", "employee", "signage", "integration", "panel")
ReaderDep = Annotated[ApiToken, Depends(require_role(*READER_ROLES))]
AdminDep = Annotated[ApiToken, Depends(require_role("admin"))]
#: Facility management and admins: site rules, bookings of others.
ManagerDep = Annotated[ApiToken, Depends(require_role("admin", "facility"))]
#: Everyone who may book; screens and integrations may not write.
BookerDep = Annotated[ApiToken, Depends(require_role("admin", "facility", "employee"))]
