"""Short-lived stream tokens: what an EventSource puts in its URL instead of the real token.

EventSource cannot send an ``Authorization`` header, so the token has to travel in the
query string, where proxies and access logs keep it. A stream token is worth little
there: it opens only the live stream, and only within ``LIFETIME_S`` of being issued
(a stream opened in time stays open). Its role and scope are those of the token it was
made from, looked up again when it is used, so revoking that token revokes it too.

The token is stateless (``<token id>.<expiry>.<HMAC>``), so any replica holding the same
key accepts it and nothing is written per reconnect. Without a configured key each
process draws a random one: after a restart a screen simply asks for a fresh token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

#: Seconds a stream token can be used to open a stream.
LIFETIME_S = 60
#: Every stream token starts with this, so other endpoints can say what they got.
PREFIX = "st1."
_MAC_BYTES = 24


class StreamTokenError(ValueError):
    """A stream token that cannot be used; ``reason`` is the problem code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def looks_like_stream_token(token: str) -> bool:
    """Return True for a string in the stream-token format (checked or not)."""
    return token.startswith(PREFIX)


class StreamTokens:
    """Issues and checks stream tokens with one HMAC key."""

    def __init__(
        self,
        key: bytes | None = None,
        *,
        lifetime_s: int = LIFETIME_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key or secrets.token_bytes(32)
        self.lifetime_s = lifetime_s
        self._clock = clock

    def _mac(self, token_id: int, expires: int) -> str:
        digest = hmac.new(self._key, f"stream|{token_id}|{expires}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(digest.digest()[:_MAC_BYTES]).decode().rstrip("=")

    def issue(self, token_id: int) -> str:
        """Return a stream token for the API token row ``token_id``."""
        expires = int(self._clock()) + self.lifetime_s
        return f"{PREFIX}{token_id}.{expires}.{self._mac(token_id, expires)}"

    def check(self, raw: str) -> int:
        """Return the id of the API token a valid, unexpired stream token was made from.

        Raises:
            StreamTokenError: ``invalid_stream_token`` (garbled, forged, or from another
                key) or ``expired_stream_token``.
        """
        body = raw[len(PREFIX) :] if raw.startswith(PREFIX) else ""
        parts = body.split(".")
        if len(parts) != 3 or not all(p.isascii() and p.isdecimal() for p in parts[:2]):
            raise StreamTokenError("invalid_stream_token", "the stream token is not valid")
        token_id, expires = int(parts[0]), int(parts[1])
        if not hmac.compare_digest(parts[2], self._mac(token_id, expires)):
            raise StreamTokenError(
                "invalid_stream_token",
                "the stream token is unknown (forged, or issued before a server restart)",
            )
        if expires <= self._clock():
            raise StreamTokenError(
                "expired_stream_token",
                f"the stream token expired {self.lifetime_s} s after issue; ask for a new one",
            )
        return token_id
