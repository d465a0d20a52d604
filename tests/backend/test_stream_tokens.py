"""Stream tokens: short-lived, stream-only stand-ins for the real token in EventSource URLs."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from backend.auth.stream import StreamTokenError, StreamTokens
from backend.database import make_engine
from tests.backend.conftest import bearer

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def issue(api: Any, token: str) -> str:
    response = api.post("/api/v1/stream-tokens", headers=bearer(token))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["expires_in"] == 60
    assert token not in body["stream_token"]
    return str(body["stream_token"])


def refused(response: Any, reason: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["reason"] == reason
    assert response.json()["detail"]


def execute(url: str, statement: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(statement))
    finally:
        engine.dispose()


class Clock:
    """A settable wall clock for the issuer."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_a_token_is_valid_for_its_lifetime_only():
    clock = Clock()
    tokens = StreamTokens(b"k" * 32, clock=clock)
    raw = tokens.issue(7)
    assert tokens.check(raw) == 7
    clock.now += 59
    assert tokens.check(raw) == 7
    clock.now += 1
    with pytest.raises(StreamTokenError) as exc:
        tokens.check(raw)
    assert exc.value.reason == "expired_stream_token"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda raw: raw.replace("st1.7.", "st1.8."),  # another token's id: the MAC breaks
        lambda raw: raw[:-2] + ("AA" if not raw.endswith("AA") else "BB"),
        lambda raw: raw.split(".", 2)[0] + ".7.99999999999." + raw.rsplit(".", 1)[1],
        lambda raw: "st1.nonsense",
        lambda raw: "st1.\u00b2.1.x",  # a digit to isdigit(), not to int()
        lambda raw: "",
        lambda raw: StreamTokens(b"other key" * 4).issue(7),  # another process / restart
    ],
)
def test_forged_and_garbled_tokens_are_refused(mangle):
    tokens = StreamTokens(b"k" * 32)
    with pytest.raises(StreamTokenError) as exc:
        tokens.check(mangle(tokens.issue(7)))
    assert exc.value.reason == "invalid_stream_token"


@SQLITE
def test_issuing_needs_a_valid_token_of_a_reading_role(api, seeded, people):
    refused(api.post("/api/v1/stream-tokens"), "missing_token")
    refused(api.post("/api/v1/stream-tokens", headers=bearer("nope")), "invalid_token")
    # Only from the header: a long-lived token in this URL would defeat the purpose.
    in_url = api.post("/api/v1/stream-tokens", params={"token": seeded.signage_token})
    refused(in_url, "token_in_url")
    for role in ("employee", "facility", "panel"):
        issue(api, people(role).token)
    issue(api, seeded.signage_token)
    issue(api, seeded.admin_token)


@SQLITE
def test_a_stream_token_opens_nothing_but_the_stream(api, seeded):
    raw = issue(api, seeded.signage_token)
    # Not as a bearer token, not as ?token=, on no other endpoint.
    for path in ("/api/v1/availability", "/api/v1/sites", "/api/v1/floors/hq-1/spaces"):
        refused(api.get(path, headers=bearer(raw)), "stream_token_not_allowed")
        refused(api.get(path, params={"token": raw}), "token_in_url")
        refused(api.get(path, params={"stream_token": raw}), "missing_token")
    # Nor to make a new one: a stream token cannot be stretched past its minute.
    refused(api.post("/api/v1/stream-tokens", headers=bearer(raw)), "stream_token_not_allowed")


@SQLITE
def test_stream_refusals_say_why(api, seeded, people):
    clock = Clock()
    api.app.state.stream_tokens = StreamTokens(b"k" * 32, clock=clock)
    url = "/api/v1/stream?site=hq&floor=hq-1"
    refused(api.get(url, params={"stream_token": "st1.1.2.3"}), "invalid_stream_token")
    refused(api.get(url, params={"stream_token": "a-real-api-token?"}), "invalid_stream_token")
    # The long-lived token itself is not taken from the URL any more, even a valid one.
    refused(api.get(url, params={"token": seeded.signage_token}), "token_in_url")

    raw = issue(api, seeded.signage_token)
    clock.now += 61
    refused(api.get(url, params={"stream_token": raw}), "expired_stream_token")

    # The role and validity are those of the token it was made from, read again on use.
    ann = people("employee")
    raw = issue(api, ann.token)
    execute(
        seeded.url, "UPDATE api_token SET revoked_at = CURRENT_TIMESTAMP WHERE user_id IS NOT NULL"
    )
    refused(api.get(url, params={"stream_token": raw}), "invalid_token")
    # A server restart (a new key) invalidates old stream tokens; the client asks again.
    raw = issue(api, seeded.signage_token)
    api.app.state.stream_tokens = StreamTokens(b"new key" * 5, clock=clock)
    refused(api.get(url, params={"stream_token": raw}), "invalid_stream_token")


def first_event(url: str, timeout: float = 10) -> tuple[int, str, httpx.Response, Any]:
    """Open a stream and read until its first event; return status, event name, response."""
    client = httpx.Client(timeout=httpx.Timeout(timeout))
    stream = client.stream("GET", url)
    response = stream.__enter__()
    if response.status_code != 200:
        response.read()
        return response.status_code, "", response, (client, stream)
    lines = response.iter_lines()
    for line in lines:
        if line.startswith("event:"):
            return 200, line[6:].strip(), response, (client, stream, lines)
    raise AssertionError("stream ended without an event")


@SQLITE
def test_a_stream_opened_in_time_stays_open_after_the_token_expires(seeded, serve):
    backend = serve(seeded.settings(sse_ping_s=0.2))
    base = backend.base_url
    # The issuer's clock is ours: a 1 s lifetime on real time could run out between
    # issuing and opening on a loaded machine (the open then got a 401).
    clock = Clock()
    backend.app.state.stream_tokens = StreamTokens(b"test key" * 4, clock=clock)
    raw = httpx.post(
        f"{base}/api/v1/stream-tokens", headers=bearer(seeded.signage_token), timeout=30
    ).json()
    url = f"{base}/api/v1/stream?site=hq&floor=hq-1&stream_token={raw['stream_token']}"
    status, event, _response, held = first_event(url, timeout=30)
    assert (status, event) == (200, "snapshot")
    try:
        clock.now += raw["expires_in"]  # the token has expired; the open stream goes on
        lines = held[2]
        pings = 0
        deadline = time.monotonic() + 30
        while pings < 2 and time.monotonic() < deadline:
            pings += next(lines).startswith(":")
        assert pings == 2
        # ...but the same token no longer opens a new one.
        again = httpx.get(url, timeout=30)
        assert again.status_code == 401
        assert again.json()["reason"] == "expired_stream_token"
    finally:
        held[1].__exit__(None, None, None)
        held[0].close()
