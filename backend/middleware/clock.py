"""Every answer says the backend's time, so the pages' clocks agree with the rules.

The header ``Werkplek-Time`` carries :func:`backend.clock.utcnow` in unix
milliseconds and, when the clock runs faster than real time (the demo's
``--speed``), ``; rate=<speed>``. The shared dashboard client
(``dashboards/shared/client.js``) learns its offset from it and offers
``WerkplekClient.now()``; in production the offset is the few milliseconds
between server and browser clocks.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend import clock

HEADER = "Werkplek-Time"
_RAW_NAME = HEADER.lower().encode("latin-1")


def header_value() -> str:
    """The header's value for this moment."""
    value = str(int(clock.utcnow().timestamp() * 1000))
    rate = clock.rate()
    return value if rate == 1.0 else f"{value}; rate={rate:g}"


class ClockHeader:
    """Adds ``Werkplek-Time`` to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app, adding the header to its response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_time(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Set (not add) on the raw list: no MutableHeaders per answer.
                headers = [pair for pair in message.get("headers", ()) if pair[0] != _RAW_NAME]
                headers.append((_RAW_NAME, header_value().encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_time)
