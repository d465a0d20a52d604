"""``POST /api/v1/stream-tokens``, the dependency that lets stream tokens open streams, logout.

Single sign-on (``/api/v1/auth/oidc/...``) is in ``oidc_router``, included here.
"""

from __future__ import annotations

import asyncio
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from backend.auth import oidc_router
from backend.auth import service as auth_service
from backend.auth.models import ApiToken
from backend.auth.oidc_settings import oidc_config
from backend.auth.stream import StreamTokenError, StreamTokens
from backend.clock import utcnow
from backend.dependencies import (
    READER_ROLES,
    BearerDoc,
    ReaderDep,
    RuntimeDep,
    SessionDep,
    get_runtime,
    get_token,
    require_role,
)
from backend.errors import Forbidden, Unauthorized
from backend.people.models import User

router = APIRouter(prefix="/api/v1", tags=["auth"])


class LoggedOut(BaseModel):
    """The end of a login session; for a single sign-on person, where to end it at the provider."""

    end_session_url: str | None


@router.post("/auth/logout", response_model=LoggedOut)
def logout(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    token: Annotated[ApiToken, Depends(get_token)],
    page: oidc_router.Page = "app",
) -> LoggedOut:
    """End the caller's login session now (the token answers 401 from here on).

    Only a login session ends this way; an API token of a screen or service is revoked
    by an admin. A person who came through the identity provider is offered its
    ``end_session_endpoint`` too, to end the session there as well.
    """
    if token.expires_at is None or token.user_id is None:
        raise Forbidden("only a login session can log out", reason="not_a_login_session")
    row = session.get(ApiToken, token.id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.commit()
    get_runtime(request).tokens.forget(lambda cached: cached.id == token.id)
    request.app.state.stream_watch.poke()  # its open streams end too
    config = oidc_config(runtime.settings)
    user = session.get(User, token.user_id)
    if config is None or user is None or user.subject is None:
        return LoggedOut(end_session_url=None)
    end = oidc_router.provider_of(request, config).endpoints().end_session
    if end is None:
        return LoggedOut(end_session_url=None)
    query = urlencode(
        {"client_id": config.client_id, "post_logout_redirect_uri": config.page_url(page)}
    )
    return LoggedOut(end_session_url=end + ("&" if "?" in end else "?") + query)


class StreamTokenPublic(BaseModel):
    """A stream token and its lifetime in seconds."""

    stream_token: str
    expires_in: int


def stream_tokens(request: Request) -> StreamTokens:
    """Return the app's stream-token issuer (made in ``create_app``)."""
    tokens: StreamTokens = request.app.state.stream_tokens
    return tokens


@router.post("/stream-tokens", response_model=StreamTokenPublic, status_code=201)
def create_stream_token(request: Request, token: ReaderDep) -> StreamTokenPublic:
    """Trade the bearer token for a stream token for ``/api/v1/stream?stream_token=``.

    It keeps the long-lived token out of URLs (and so out of access logs): it opens
    only the stream, within 60 s, with the role of the token it was made from.
    """
    tokens = stream_tokens(request)
    return StreamTokenPublic(stream_token=tokens.issue(token.id), expires_in=tokens.lifetime_s)


async def stream_reader(
    request: Request,
    declared: BearerDoc,
    stream_token: Annotated[
        str | None, Query(description="from POST /api/v1/stream-tokens; valid 60 s")
    ] = None,
) -> ApiToken:
    """Authenticate a stream request: a stream token or a bearer header.

    A long-lived token in the URL (``?token=``) is refused: URLs end up in
    access logs and browser history, which is why stream tokens exist.
    """
    if stream_token is None:
        row = await get_token(request, declared)
    else:
        try:
            token_id = stream_tokens(request).check(stream_token)
        except StreamTokenError as exc:
            raise Unauthorized(exc.detail, reason=exc.reason) from exc
        row = await asyncio.to_thread(_parent, request, token_id)
    return await require_role(*READER_ROLES)(row)


def _parent(request: Request, token_id: int) -> ApiToken:
    with get_runtime(request).session_factory() as session:
        return auth_service.authenticate_id(session, token_id)


StreamReaderDep = Annotated[ApiToken, Depends(stream_reader)]


router.include_router(oidc_router.router)
