"""Gzip for pages and JSON, never for the live stream.

Compression pays on the booking app's scripts and on the availability JSON of a
big floor, which both shrink to a fraction on a phone or a screen's slow link.
A server-sent event stream must not go through it: a compressor holds bytes
back until it has enough to compress, so an event would reach the screen late
(or only with the next one). Newer Starlette skips ``text/event-stream`` by
itself; this wrapper does not rely on that and sends every request that asks
for an event stream, or goes to the stream path, straight to the app.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

#: Responses smaller than this are sent as they are: gzip would save too little.
MINIMUM_SIZE = 1024
#: Level 6 gives nearly all of level 9's saving for a fraction of the CPU.
LEVEL = 6
STREAM_PATHS = ("/api/v1/stream",)


def is_event_stream(scope: Scope) -> bool:
    """Return True for a request for a server-sent event stream."""
    if scope.get("path", "") in STREAM_PATHS:
        return True
    return "text/event-stream" in Headers(scope=scope).get("accept", "")


class GzipExceptStreams:
    """ASGI middleware: gzip responses of at least ``minimum_size`` bytes, except streams."""

    def __init__(self, app: ASGIApp, minimum_size: int = MINIMUM_SIZE, level: int = LEVEL) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=level)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route a request around the compressor when it is for an event stream."""
        if scope["type"] == "http" and not is_event_stream(scope):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
