r"""Refuse oversized and NUL-carrying requests before anything parses them.

Why here and not in the routes: FastAPI reads and parses a JSON body before any
dependency (the token check included) runs, so without a limit an anonymous
client makes the server read and parse as much as it sends. This middleware
counts bytes while the body arrives (a chunked body without ``Content-Length``
too) and answers 413 as soon as the limit is passed, so at most the limit is
ever buffered.

NUL characters are refused as well: PostgreSQL cannot store them in text, so
without this check they turn into a 500 deep inside a query. They are looked
for in the path, the query string and the body, raw or as the JSON escape
``\\u0000``.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.problem import send_problem

#: A JSON ``\u0000`` escape that is not itself an escaped backslash (``\\u0000``).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


def _has_nul(data: bytes) -> bool:
    return b"\x00" in data or _JSON_NUL.search(data) is not None


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class RequestGuard:
    """Body size limit (413) and NUL refusal (422) for every HTTP request."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check path, query and body, then run the app with the buffered body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if (
            "\x00" in scope["path"]
            or _has_nul(scope.get("query_string", b""))
            or (b"%00" in scope.get("raw_path", b"") or b"%00" in scope.get("query_string", b""))
        ):
            await self._nul(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left while sending
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _has_nul(body):
            await self._nul(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.max_body_bytes
        await send_problem(
            scope, receive, send, 413,
            f"the request body is larger than {limit} bytes", "body_too_large",
            headers={"Connection": "close"},
        )  # fmt: skip

    @staticmethod
    async def _nul(scope: Scope, receive: Receive, send: Send) -> None:
        await send_problem(
            scope, receive, send, 422,
            "the request contains a NUL character, which no field accepts", "nul_character",
        )  # fmt: skip


def _replay(body: bytes, receive: Receive) -> Receive:
    # The app gets the buffered body as one message; later receives (a client
    # disconnecting from a stream) come from the server as usual.
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
