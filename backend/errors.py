"""Domain errors raised by services; ``main.py`` maps them to HTTP once.

Tree::

    DomainError
    ├── InvalidInput   422  the request names something impossible
    ├── Unauthorized   401  no token, or an unknown token
    ├── Forbidden      403  the token's role may not do this
    ├── NotFound       404  the named object does not exist
    ├── Conflict       409  the request clashes with the stored state
    ├── RateLimited    429  too many attempts; retry later
    └── Unavailable    503  a capacity limit is reached; retry later
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of all backend domain errors; carries a machine-readable reason code."""

    status_code = 400
    reason = "bad_request"

    #: Seconds a client should wait before retrying (429 and 503 send ``Retry-After``).
    retry_after: int | None = None

    def __init__(
        self, message: str, *, reason: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        if retry_after is not None:
            self.retry_after = retry_after


class InvalidInput(DomainError):
    """The request is well-formed but names something impossible."""

    status_code = 422
    reason = "invalid_input"


class Unauthorized(DomainError):
    """No credentials, or credentials nobody issued."""

    status_code = 401
    reason = "unauthorized"


class Forbidden(DomainError):
    """Valid credentials whose role does not allow the action."""

    status_code = 403
    reason = "forbidden"


class NotFound(DomainError):
    """The named object does not exist."""

    status_code = 404
    reason = "not_found"


class Conflict(DomainError):
    """The request clashes with what is stored."""

    status_code = 409
    reason = "conflict"


class RateLimited(DomainError):
    """Too many attempts (failed logins); the client waits before trying again."""

    status_code = 429
    reason = "rate_limited"
    retry_after = 60


class Unavailable(DomainError):
    """A capacity limit is reached (e.g. too many open streams); the client retries later."""

    status_code = 503
    reason = "unavailable"
    retry_after = 10
