"""Checked bearer tokens trusted for a few seconds, so most requests skip the token read.

A token revoked in the database is refused within ``TOKEN_CACHE_S`` by other
replicas; this process drops its entries at once when it makes the change itself
(log-out, role change, erasure). Expiry is checked on every request.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from backend.auth.models import ApiToken
from backend.clock import utcnow

#: Seconds a checked token is trusted without a database read.
TOKEN_CACHE_S = 10.0
#: Entries kept at most; beyond it the cache starts over (a flood of distinct tokens).
MAX_ENTRIES = 10_000


class TokenCache:
    """sha256 of a token -> (trusted until, monotonic s; the token row).

    Thread-safe enough: single dict operations only, and a lost entry only costs a read.
    """

    def __init__(self, trust_s: float = TOKEN_CACHE_S, max_entries: int = MAX_ENTRIES) -> None:
        self.trust_s = trust_s
        self.max_entries = max_entries
        self._rows: dict[str, tuple[float, ApiToken]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, digest: str) -> ApiToken | None:
        """Return the trusted row of a token, or None when it must be read again.

        Raises nothing: an expired login session is returned as is, and the caller's
        expiry check refuses it (so the answer says "expired", not "unknown").
        """
        hit = self._rows.get(digest)
        if hit is None or hit[0] <= time.monotonic():
            return None
        return hit[1]

    def expired(self, row: ApiToken) -> bool:
        """True when a login session's lifetime has run out (checked on every request)."""
        return row.expires_at is not None and row.expires_at <= utcnow()

    def put(self, digest: str, row: ApiToken) -> None:
        """Trust a freshly checked token for ``trust_s`` seconds."""
        if len(self._rows) > self.max_entries:
            self._rows.clear()
        self._rows[digest] = (time.monotonic() + self.trust_s, row)

    def drop(self, digest: str) -> None:
        """Forget one token."""
        self._rows.pop(digest, None)

    def forget(self, matches: Callable[[ApiToken], bool]) -> None:
        """Forget every cached token whose row matches (a revoked session, a changed person)."""
        for digest, (_until, row) in list(self._rows.items()):
            if matches(row):
                self._rows.pop(digest, None)

    def clear(self) -> None:
        """Forget everything (an erasure: the erased tokens must not live on here)."""
        self._rows.clear()

    def start(self) -> None:
        """Nothing to open; present so the runtime starts every owner alike."""

    def stop(self) -> None:
        """Drop every trusted token."""
        self.clear()
