"""The last line: an unexpected exception becomes a 500 problem without internals.

Why a middleware rather than Starlette's ``Exception`` handler: that handler runs
outside every other middleware (no security headers) and re-raises, so the
server prints the exception's message, which for a database error holds the SQL
and the values of a person's booking. Here the log gets the exception's type and
stack frames only, and the client a fixed text.

Two kinds of errors are the client's doing and get a 422 instead: a number the
database column cannot hold (``DataError``) and a date so close to year 1 or
9999 that converting its time zone overflows.
"""

from __future__ import annotations

import logging
import traceback

from sqlalchemy.exc import DataError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.problem import send_problem

log = logging.getLogger("backend.errors")


def describe(exc: BaseException) -> str:
    """Return the exception chain's types and stack frames, without any message."""
    parts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(parts) < 5:
        frames = "".join(traceback.format_tb(seen.__traceback__))
        parts.append(f"{type(seen).__module__}.{type(seen).__qualname__}\n{frames}")
        seen = seen.__cause__ or seen.__context__
    return "caused by ".join(parts)


class CatchAll:
    """Turn an exception no handler took into a problem (422 or 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; answer a problem if it raises before answering."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            route = getattr(scope.get("route"), "path", "?")
            if isinstance(exc, DataError | OverflowError):
                log.info("%s %s: value out of range (%s)", scope["method"], route, type(exc))
                if not started:
                    await send_problem(
                        scope, receive, send, 422,
                        "a value in the request is out of the range this API stores",
                        "value_out_of_range",
                    )  # fmt: skip
                return
            log.error("unhandled error on %s %s: %s", scope["method"], route, describe(exc))
            if not started:
                await send_problem(
                    scope, receive, send, 500,
                    "the server failed to answer this request; it has been logged",
                    "internal_error",
                )  # fmt: skip
