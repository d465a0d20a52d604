"""Security headers on every answer: a strict Content-Security-Policy and friends.

The pages under ``dashboards/`` load their scripts and styles from files of the
same origin only, so the policy allows nothing inline and nothing from elsewhere;
an injected ``<script>`` or ``style`` attribute is then refused by the browser.
``data:`` images are allowed for the QR codes the booking app draws. A route that
needs another policy (the API docs page) sets its own header, which is kept.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The policy of every page and API answer.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

#: ``HEADERS`` as the raw (lower-case name, value) pairs of an ASGI response start.
_RAW = tuple(
    (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in HEADERS.items()
)


def add_missing(message: Message) -> None:
    """Add to a response start each of ``HEADERS`` that the route did not set itself.

    Works on the raw header list (ASGI names are lower-case): a ``MutableHeaders``
    per answer, with a scan of the list per header name, was a measurable part of a
    booking's CPU (docs/operations.md, Throughput of bookings, fifth round).
    """
    headers = message["headers"] = list(message.get("headers", ()))
    present = {name for name, _ in headers}
    headers.extend(pair for pair in _RAW if pair[0] not in present)


class SecurityHeaders:
    """Adds ``HEADERS`` to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app, adding the headers to its response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_missing(message)
            await send(message)

        await self.app(scope, receive, send_with_headers)
