"""The live state of one space (gateway -> backend and screens, retained).

Topic ``werkplek/v1/<site>/_space/<space_id>/state``. The gateway derives and
encodes it (``gateway/live.py``), the backend parses it
(``backend/availability/live.py``); both use :class:`SpaceState`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from contract.errors import ContractError
from contract.fields import check_size, field, load_object, same_as_topic
from contract.kinds import Kind, register
from contract.topics import (
    VERSION,
    Route,
    expect,
    is_valid_id,
    space_state_topic,
)

STATES = ("occupied", "vacant", "unknown")
REASONS = ("sensor", "offline", "stale", "no_data")

register(
    Kind(
        "space_state",
        "gateway -> backend and screens, retained",
        shape=("_space", "{space_id}", "state"),
    )
)


@dataclass(frozen=True, slots=True)
class SpaceState:
    """The retained state of one space, as published on ``_space/<space_id>/state``."""

    site: str
    space_id: str
    state: str
    since: int
    updated: int
    reason: str
    devices: tuple[str, ...]

    @property
    def topic(self) -> str:
        """The retained topic this state is published on."""
        return space_state_topic(self.site, self.space_id)

    def payload(self) -> bytes:
        """The contract payload, compact JSON.

        Formatted by hand (it runs per state change): every string in it is a
        validated id or a fixed word, so none needs JSON escaping.
        """
        devices = ",".join(f'"{d}"' for d in self.devices)
        return (
            f'{{"v":{VERSION},"site":"{self.site}","space_id":"{self.space_id}",'
            f'"state":"{self.state}","since":{self.since},"updated":{self.updated},'
            f'"reason":"{self.reason}","devices":[{devices}]}}'
        ).encode()


def _timestamp(body: dict[str, Any], name: str) -> int:
    value = field(body, name, float)
    if not math.isfinite(value) or value < 0:
        raise ContractError("out_of_range", f"field {name!r} must be a positive time in ms")
    return int(value)


def parse_space_state(topic: str | Route, payload: bytes) -> SpaceState | None:
    """Validate one space state; None means an empty payload (the retained state was cleared).

    Raises:
        ContractError: the topic or the payload breaks the contract.
    """
    route = expect(topic, "space_state")
    site, space_id = route.site or "", route.space_id or ""
    if not payload:
        return None
    check_size(payload)
    body = load_object(payload)
    state = field(body, "state", str)
    if state not in STATES:
        raise ContractError("out_of_range", f"state {state!r:.40} is not one of {STATES}")
    reason = field(body, "reason", str)
    if reason not in REASONS:
        raise ContractError("out_of_range", f"reason {reason!r:.40} is not one of {REASONS}")
    devices = field(body, "devices", list)
    if not all(isinstance(d, str) and is_valid_id(d) for d in devices):
        raise ContractError("bad_type", "devices must be a list of device ids")
    same_as_topic(body, "site", site, "mismatch")
    same_as_topic(body, "space_id", space_id, "mismatch")
    return SpaceState(
        site=site,
        space_id=space_id,
        state=state,
        since=_timestamp(body, "since"),
        updated=_timestamp(body, "updated"),
        reason=reason,
        devices=tuple(devices),
    )
