"""The security, clock and counting middlewares on raw ASGI messages: what they add and keep.

They work on the raw header list (no ``MutableHeaders`` per answer, for the booking
CPU of issue 14); these pin the behaviour that had: a route's own policy header is
kept, every other header is added once, the clock header is set (never doubled), and
each answer is counted once by method and status class.
"""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from backend.metrics import RequestCounter
from backend.middleware.clock import ClockHeader
from backend.middleware.headers import HEADERS, SecurityHeaders


def _answer(headers: Any) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


def _run(app: Any, method: str = "POST") -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": "/", "headers": []}
    asyncio.run(app(scope, receive, send))
    return sent


def test_security_headers_are_added_once_and_a_routes_own_policy_is_kept():
    own = (b"content-security-policy", b"default-src 'none'")
    start = _run(SecurityHeaders(_answer((own, (b"content-type", b"application/json")))))[0]
    names = [name for name, _ in start["headers"]]
    assert len(names) == len(set(names))  # nothing doubled
    assert own in start["headers"]
    for name, value in HEADERS.items():
        if name != "Content-Security-Policy":
            assert (name.lower().encode(), value.encode()) in start["headers"]
    # An answer without any headers still gets all of them.
    bare = _run(SecurityHeaders(_answer([])))[0]
    assert {n.decode() for n, _ in bare["headers"]} == {n.lower() for n in HEADERS}


def test_the_clock_header_is_set_not_added():
    stale = (b"werkplek-time", b"1")
    start = _run(ClockHeader(_answer((stale,))))[0]
    times = [value for name, value in start["headers"] if name == b"werkplek-time"]
    assert len(times) == 1 and times[0] != b"1" and int(times[0].split(b";")[0]) > 10**12


def test_every_answer_is_counted_once_by_method_and_status_class():
    registry = CollectorRegistry()
    counter = Counter("t_requests", "t", ["method", "status"], registry=registry)
    app = RequestCounter(_answer([]), counter)
    for method in ("POST", "POST", "GET"):
        _run(app, method)

    def seen(method: str) -> float | None:
        return registry.get_sample_value("t_requests_total", {"method": method, "status": "2xx"})

    assert (seen("POST"), seen("GET")) == (2.0, 1.0)
