"""Exceptions raised by the gateway.

The tree::

    GatewayError
    └── InvalidMessage        a device or registry message breaks contract v1;
                              carries a reason code, is dead-lettered, never fatal

History store failures are :mod:`history.errors` (shared with the backend).
"""

from __future__ import annotations

#: Rejection reason codes: those of tests/contracts/v1/invalid.json, and
#: ``wrong_site``, which depends on the registry rather than on the message alone.
REASON_CODES = (
    "bad_topic",
    "too_large",
    "bad_json",
    "not_object",
    "bad_version",
    "missing_field",
    "bad_type",
    "out_of_range",
    "bad_status",
    "wrong_site",
)


class GatewayError(Exception):
    """Base class of every error the gateway raises on purpose."""


class InvalidMessage(GatewayError):
    """A message was rejected; ``reason`` is one of :data:`REASON_CODES`."""

    def __init__(self, reason: str, detail: str) -> None:
        if reason not in REASON_CODES:
            raise ValueError(f"unknown rejection reason {reason!r}")
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
