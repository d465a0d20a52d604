"""Validated store of the gateway's retained space states and of gateway liveness.

Sources: ``_space/<space_id>/state`` (per-space state) and
``_gateway/<gateway_id>/status`` (online/offline, the gateway's Last Will).
Only gateways that serve live state publish that status (history gateways use
``_gateway/<id>/history``), so "some gateway online" means the states are kept current.

Every malformed message is rejected with a reason code (logged and counted),
never raised to the caller: one broken publisher must not stop live updates.
Not thread-safe on purpose: it is only touched from the asyncio loop.
"""

from __future__ import annotations

import logging
from collections import Counter

from contract.errors import ContractError
from contract.space_state import SpaceState, parse_space_state
from contract.status import parse_gateway_status
from contract.topics import SUB_GATEWAY_STATUS, parse_topic

log = logging.getLogger(__name__)

#: ``handle_message`` result meaning "every space may have changed".
ALL_SPACES = "*"

__all__ = ["ALL_SPACES", "SUB_GATEWAY_STATUS", "LiveState", "SpaceState"]


class LiveState:
    """Latest valid state per space plus the broker connection flag and rejection counts."""

    def __init__(self) -> None:
        self.states: dict[str, SpaceState] = {}
        self.received_ms: dict[str, int] = {}
        self.connected = False
        self.disconnected_ms: int | None = None
        self.gateways: dict[str, bool] = {}
        self.gateway_changed_ms: int | None = None
        self.accepted = 0
        self.rejected: Counter[str] = Counter()

    @property
    def gateway(self) -> str:
        """``online`` if any gateway is, ``offline`` if all known ones are, else ``unknown``."""
        if not self.gateways:
            return "unknown"
        return "online" if any(self.gateways.values()) else "offline"

    def handle_message(self, topic: str, payload: bytes, received_ms: int) -> str | None:
        """Apply one raw message; return the space id it changed, or None when rejected.

        A gateway status returns ``ALL_SPACES``: it affects every space.
        """
        try:
            route = parse_topic(topic)
            if route.kind == "gateway_status":
                status = parse_gateway_status(route, payload)
                return self._apply_gateway(status.gateway_id, status.online, received_ms)
            state = parse_space_state(route, payload)
        except ContractError as exc:
            self.rejected[exc.reason] += 1
            log.warning("space state rejected (%s) on %r: %s", exc.reason, topic, exc.detail)
            return None
        self.accepted += 1
        if state is None:
            space_id = route.space_id or ""
            self.states.pop(space_id, None)
            self.received_ms.pop(space_id, None)
            return space_id
        self.states[state.space_id] = state
        self.received_ms[state.space_id] = received_ms
        return state.space_id

    def _apply_gateway(self, gateway_id: str, online: bool | None, received_ms: int) -> str:
        self.accepted += 1
        before = self.gateway
        if online is None:
            self.gateways.pop(gateway_id, None)
        else:
            self.gateways[gateway_id] = online
        if self.gateway != before:
            self.gateway_changed_ms = received_ms
            log.info("gateways now %s (%s)", self.gateway, self.gateways)
        return ALL_SPACES

    def set_connected(self, connected: bool, now_ms: int) -> bool:
        """Record the broker connection state; return True when it changed."""
        if connected == self.connected:
            return False
        self.connected = connected
        self.disconnected_ms = None if connected else now_ms
        return True
