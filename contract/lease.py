"""The live-state lease (gateway -> gateways, retained on ``_gateway/_live/lease``).

The gateway holding it publishes live state (``gateway/lease.py`` has the state
machine). ``until`` is informative: expiry is measured from receive times.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.errors import ContractError
from contract.fields import check_size, dumps, field, load_object
from contract.kinds import Kind, register
from contract.topics import LEASE_TOPIC, VERSION, is_valid_id

register(Kind("lease", "live gateway -> live gateways, retained"))


@dataclass(frozen=True, slots=True)
class Lease:
    """Who owns live state, since when and until when (unix ms)."""

    owner: str
    since: int
    until: int

    @property
    def topic(self) -> str:
        """The one retained lease topic."""
        return LEASE_TOPIC

    def payload(self) -> bytes:
        """The retained lease JSON."""
        return dumps({"v": VERSION, "owner": self.owner, "since": self.since, "until": self.until})


def parse_lease(payload: bytes) -> Lease | None:
    """Validate a lease; None for an empty payload (no lease).

    Raises:
        ContractError: the payload breaks the contract.
    """
    if not payload:
        return None
    check_size(payload)
    body = load_object(payload)
    owner = field(body, "owner", str)
    if not is_valid_id(owner):
        raise ContractError("out_of_range", f"invalid owner {owner!r:.70}")
    since, until = field(body, "since", int), field(body, "until", int)
    if since < 0 or until < since:
        raise ContractError("out_of_range", "since must be positive and until after it")
    return Lease(owner, since, until)
