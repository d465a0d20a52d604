"""The one error of the contract: a message or topic broke a rule, named by a reason code.

Every consumer (gateway, backend) rejects with these codes: the gateway counts
them and stores them with each dead letter, the backend counts and logs them,
and the golden files in ``tests/contracts/v1`` name them per invalid example.
"""

from __future__ import annotations

#: Every rejection reason. All but the last three follow from the message alone;
#: ``wrong_site`` needs the registry (a device publishing under a site it is not
#: registered on) and ``too_many`` a consumer's capacity limit.
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
    "mismatch",
    "wrong_site",
    "too_many",
)


class ContractError(ValueError):
    """A message or topic breaks contract v1; ``reason`` is one of :data:`REASON_CODES`."""

    def __init__(self, reason: str, detail: str) -> None:
        if reason not in REASON_CODES:
            raise ValueError(f"unknown rejection reason {reason!r}")
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class TopicError(ContractError):
    """A topic does not follow the contract (reason ``bad_topic``); the detail names the part."""

    def __init__(self, detail: str) -> None:
        super().__init__("bad_topic", detail)
