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

import json
import logging
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from contract import (
    MAX_PAYLOAD_BYTES,
    PREFIX,
    STATUS_OFFLINE,
    STATUS_ONLINE,
    VERSION,
    TopicError,
    is_valid_id,
    parse_space_state_topic,
)

log = logging.getLogger(__name__)

#: Subscription for the gateways' retained online/offline status.
SUB_GATEWAY_STATUS = f"{PREFIX}/_gateway/+/status"
_GATEWAY_PREFIX = f"{PREFIX}/_gateway/"
#: ``handle_message`` result meaning "every space may have changed".
ALL_SPACES = "*"

STATES = ("occupied", "vacant", "unknown")
REASONS = ("sensor", "offline", "stale", "no_data")


class InvalidSpaceState(ValueError):
    """A space state message broke the contract; ``reason`` is the rejection code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class SpaceState:
    """The gateway's view of one space, as last published."""

    site: str
    space_id: str
    state: str
    since: int
    updated: int
    reason: str
    devices: tuple[str, ...]


def _field(body: dict[str, Any], name: str, kinds: type | tuple[type, ...]) -> Any:
    if name not in body:
        raise InvalidSpaceState("missing_field", f"field {name!r} is missing")
    value = body[name]
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise InvalidSpaceState("bad_type", f"field {name!r} must not be a boolean")
    if not isinstance(value, kinds):
        raise InvalidSpaceState("bad_type", f"field {name!r} has type {type(value).__name__}")
    return value


def _timestamp(body: dict[str, Any], name: str) -> int:
    value = _field(body, name, (int, float))
    if not math.isfinite(value) or value < 0:
        raise InvalidSpaceState("out_of_range", f"field {name!r} must be a positive time in ms")
    return int(value)


def parse_space_state(topic: str, payload: bytes) -> SpaceState | None:
    """Validate one message; None means an empty payload (the retained state was cleared).

    Raises:
        InvalidSpaceState: the topic or payload breaks the contract.
    """
    try:
        site, space_id = parse_space_state_topic(topic)
    except TopicError as exc:
        raise InvalidSpaceState("bad_topic", str(exc)) from exc
    if not payload:
        return None
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise InvalidSpaceState("too_large", f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidSpaceState("bad_json", str(exc)) from exc
    if not isinstance(body, dict):
        raise InvalidSpaceState("not_object", f"payload is a JSON {type(body).__name__}")
    if _field(body, "v", int) != VERSION:
        raise InvalidSpaceState("bad_version", f"version {body['v']!r} is not {VERSION}")
    state = _field(body, "state", str)
    if state not in STATES:
        raise InvalidSpaceState("out_of_range", f"state {state!r} is not one of {STATES}")
    reason = _field(body, "reason", str)
    if reason not in REASONS:
        raise InvalidSpaceState("out_of_range", f"reason {reason!r} is not one of {REASONS}")
    devices = _field(body, "devices", list)
    if not all(isinstance(d, str) and is_valid_id(d) for d in devices):
        raise InvalidSpaceState("bad_type", "devices must be a list of device ids")
    for name, expected in (("site", site), ("space_id", space_id)):
        if _field(body, name, str) != expected:
            raise InvalidSpaceState("mismatch", f"{name} {body[name]!r} differs from the topic")
    return SpaceState(
        site=site,
        space_id=space_id,
        state=state,
        since=_timestamp(body, "since"),
        updated=_timestamp(body, "updated"),
        reason=reason,
        devices=tuple(devices),
    )


def parse_gateway_status(topic: str, payload: bytes) -> tuple[str, bool | None]:
    """Return ``(gateway_id, online)``; online is None for an empty (cleared) payload.

    Raises:
        InvalidSpaceState: bad topic (``bad_topic``) or payload (``bad_status``).
    """
    parts = topic.split("/")
    if len(parts) != 5 or not topic.startswith(_GATEWAY_PREFIX) or parts[4] != "status":
        raise InvalidSpaceState("bad_topic", "not a gateway status topic")
    if not is_valid_id(parts[3]):
        raise InvalidSpaceState("bad_topic", f"invalid gateway id {parts[3]!r}")
    if not payload:
        return parts[3], None
    if payload not in (STATUS_ONLINE.encode(), STATUS_OFFLINE.encode()):
        raise InvalidSpaceState(
            "bad_status", f"status must be online or offline, got {payload[:20]!r}"
        )
    return parts[3], payload == STATUS_ONLINE.encode()


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
            if topic.startswith(_GATEWAY_PREFIX):
                return self._apply_gateway(*parse_gateway_status(topic, payload), received_ms)
            state = parse_space_state(topic, payload)
        except InvalidSpaceState as exc:
            self.rejected[exc.reason] += 1
            log.warning("space state rejected (%s) on %r: %s", exc.reason, topic, exc.detail)
            return None
        self.accepted += 1
        if state is None:
            _site, space_id = parse_space_state_topic(topic)
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
