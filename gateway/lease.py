"""Which of two (or more) live gateways owns live state: a lease on a retained MQTT topic.

Why: live state must come from exactly one gateway (two would publish
conflicting space states), yet a dead owner must not need a person to restart
it. Every live gateway follows the same messages and derives the same state;
only the owner publishes. The owner keeps a retained lease on
``werkplek/v1/_gateway/_live/lease`` and renews it; its own status topic says
``online`` only while it owns live state. A standby says ``offline``.

The lease is free when no lease exists, when its owner's status turned
``offline`` after its last lease message (its Last Will: the broker publishes
it the moment a killed gateway's connection drops) or when it was not renewed
for ``lease_ms`` (a hung owner whose connection lives on). A standby then claims it and waits
``settle_ms``: the broker hands every subscriber the lease messages in one
order, so if two standbys claim at once both see the same last claim, and only
its author takes over. No clocks are compared: expiry is measured from when
this gateway received the last renewal.

No I/O here: :meth:`LiveLease.step` returns what the gateway must do.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from contract.errors import ContractError
from contract.lease import Lease, parse_lease
from contract.topics import LEASE_TOPIC

__all__ = ["LEASE_TOPIC", "Action", "LeaseRecord", "LiveLease", "lease_owner", "lease_payload"]


class Action(Enum):
    """What the gateway must do after a :meth:`LiveLease.step`."""

    NONE = "none"
    CLAIM = "claim"  # publish a lease naming us
    RENEW = "renew"  # publish the lease again (we own it)
    ACTIVATE = "activate"  # publish every space state, then status online
    DEACTIVATE = "deactivate"  # stop publishing, status offline


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    """A lease message as received: owner, receive time, and arrival order."""

    owner: str
    received_ms: int
    order: int


def lease_payload(owner: str, now_ms: int, lease_ms: int) -> bytes:
    """The retained lease of ``owner`` from now for ``lease_ms``."""
    return Lease(owner, now_ms, now_ms + lease_ms).payload()


def lease_owner(payload: bytes) -> str | None:
    """The owner named by a lease payload; None for an empty or unreadable one."""
    try:
        lease = parse_lease(payload)
    except ContractError:
        return None
    return lease.owner if lease is not None else None


class LiveLease:
    """The lease state machine of one gateway (standby -> claiming -> active)."""

    def __init__(self, me: str, *, lease_ms: int = 10_000, settle_ms: int = 300) -> None:
        if lease_ms <= 3 * settle_ms:
            raise ValueError("lease_ms must be well above settle_ms")
        self.me = me
        self.lease_ms = lease_ms
        self.settle_ms = settle_ms
        self.active = False
        self._lease: LeaseRecord | None = None
        self._offline: dict[str, int] = {}  # gateway -> arrival order of its "offline"
        self._order = 0
        self._connected_ms: int | None = None
        self._claimed_ms: int | None = None
        self._renewed_ms = 0

    @property
    def owner(self) -> str | None:
        """The owner named by the last lease message seen."""
        return self._lease.owner if self._lease else None

    def connected(self, now_ms: int) -> Action:
        """A (re)connect: start as standby; what we published before may be stale."""
        was_active = self.active
        self.active = False
        self._claimed_ms = None
        self._connected_ms = now_ms
        return Action.DEACTIVATE if was_active else Action.NONE

    def on_status(self, gateway_id: str, online: bool | None) -> None:
        """A gateway's retained status (``offline`` is also its Last Will)."""
        self._order += 1
        if online:
            self._offline.pop(gateway_id, None)
        else:
            self._offline[gateway_id] = self._order

    def on_lease(self, payload: bytes, now_ms: int) -> Action:
        """A lease message, in broker order; another owner's lease ends our ownership."""
        owner = lease_owner(payload)
        self._order += 1
        self._lease = LeaseRecord(owner, now_ms, self._order) if owner else None
        if self.active and owner is not None and owner != self.me:
            self.active = False
            return Action.DEACTIVATE
        return Action.NONE

    def _free(self, now_ms: int) -> bool:
        lease = self._lease
        if lease is None or lease.owner == self.me:  # ours from an earlier run, or none
            return True
        # Only an "offline" after the lease counts: a standby says "offline" before it claims.
        offline = self._offline.get(lease.owner)
        if offline is not None and offline > lease.order:
            return True
        return now_ms - lease.received_ms > self.lease_ms

    def step(self, now_ms: int) -> Action:
        """Advance the state machine; call often (every ~100 ms)."""
        if self._connected_ms is None:
            return Action.NONE
        if self.active:
            if now_ms - self._renewed_ms >= self.lease_ms // 3:
                self._renewed_ms = now_ms
                return Action.RENEW
            return Action.NONE
        if self._claimed_ms is not None:
            if now_ms - self._claimed_ms < self.settle_ms:
                return Action.NONE
            self._claimed_ms = None
            if self.owner == self.me:
                self.active = True
                self._renewed_ms = now_ms
                return Action.ACTIVATE
            return Action.NONE  # another claim came last: it won
        if now_ms - self._connected_ms < self.settle_ms:
            return Action.NONE  # the retained lease and statuses are still arriving
        if self._free(now_ms):
            self._claimed_ms = now_ms
            return Action.CLAIM
        return Action.NONE
