"""Signed, short-lived cookies that carry a login through the provider and back.

The flow cookie holds the state, nonce and PKCE verifier of one login between the
redirect to the provider and its callback; the result cookie hands the new session
token (or the reason the login failed) from the callback to the page. Both are
``HttpOnly`` and scoped to the one path that reads them, so page scripts never see
them and no other request carries them. They are signed (HMAC-SHA256), so a browser
cannot edit them; what they hold is worth nothing to anyone but that browser.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

FLOW_COOKIE = "werkplek_oidc_flow"
FLOW_PATH = "/api/v1/auth/oidc/callback"
FLOW_TTL_S = 600
RESULT_COOKIE = "werkplek_oidc_result"
RESULT_PATH = "/api/v1/auth/oidc/session"
RESULT_TTL_S = 120


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sealer:
    """Signs small JSON payloads with an expiry, and checks them back."""

    def __init__(self, key: bytes | None) -> None:
        self._key = key or secrets.token_bytes(32)

    def seal(self, payload: dict[str, Any], ttl_s: int) -> str:
        """Return ``payload`` (valid ``ttl_s`` seconds) as a cookie-safe signed string."""
        body = _b64(json.dumps({**payload, "exp": int(time.time()) + ttl_s}).encode())
        return body + "." + _b64(self._sign(body))

    def open(self, value: str | None) -> dict[str, Any] | None:
        """Return the payload of a sealed string; None when absent, forged or expired."""
        if not value or value.count(".") != 1:
            return None
        body, signature = value.split(".")
        try:
            if not hmac.compare_digest(_unb64(signature), self._sign(body)):
                return None
            payload = json.loads(_unb64(body))
        except ValueError:
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
            return None
        return payload if payload["exp"] > time.time() else None

    def _sign(self, body: str) -> bytes:
        return hmac.new(self._key, body.encode(), hashlib.sha256).digest()


def pkce_pair() -> tuple[str, str]:
    """Return a PKCE verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)  # 64 characters, within the 43-128 allowed
    challenge = _b64(hashlib.sha256(verifier.encode("ascii")).digest())
    return verifier, challenge
