"""``POST /api/v1/stream-tokens`` and the dependency that lets stream tokens open streams."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from backend.auth import service as auth_service
from backend.auth.models import ApiToken
from backend.auth.stream import StreamTokenError, StreamTokens
from backend.dependencies import (
    READER_ROLES,
    BearerDoc,
    ReaderDep,
    get_runtime,
    get_token,
    require_role,
)
from backend.errors import Unauthorized

router = APIRouter(prefix="/api/v1", tags=["auth"])


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
