"""The bridge-state message: is a site's own broker linked to the central broker?

A satellite site runs its own Mosquitto, bridged to the central broker
(``werkplek site-bridge``). Mosquitto's bridge notifications write the link
state, retained, on one topic inside the site's own prefix::

    werkplek/v1/<site>/_bridge/state     site broker -> central, QoS 1, retained

The payload is Mosquitto's own: ``1`` once the bridge has connected, ``0`` when
it disconnects cleanly or, as the Last Will the bridge leaves on the central
broker, when the central broker loses it (keep-alive ran out, line cut). An
empty payload clears the retained state (a site taken out of service).
Golden examples: ``tests/contracts/v1/bridge.json``.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.errors import ContractError
from contract.kinds import Kind, register
from contract.topics import PREFIX, ROOT, VERSION, is_valid_id

#: Topic level that marks the bridge state; a leading underscore is never a device id.
BRIDGE_LEVEL = "_bridge"
#: Subscription of every site's bridge state.
SUB_BRIDGE_STATE = f"{PREFIX}/+/{BRIDGE_LEVEL}/state"
#: Mosquitto's notification payloads.
LINK_UP = b"1"
LINK_DOWN = b"0"
#: The bridge's client id and broker account at the central broker start with
#: the services' prefix, which no device id may carry (``werkplek broker-acl``).
BRIDGE_CLIENT_PREFIX = "werkplek-bridge-"
register(Kind("bridge", "site broker -> central, QoS 1, retained", shape=(BRIDGE_LEVEL, "state")))


class BridgeStateError(ContractError):
    """A bridge-state message broke the contract, with one of the contract's reason codes.

    A subclass only so its consumer can catch the kind's errors alone; the codes are the
    contract's one list (``bad_topic``, ``bad_status``).
    """


@dataclass(frozen=True, slots=True)
class BridgeState:
    """One site's link state; ``linked`` is None when the retained state was cleared."""

    site: str
    linked: bool | None


def bridge_state_topic(site: str) -> str:
    """Build the retained topic of a site's bridge state."""
    if not is_valid_id(site):
        raise ValueError(f"site id {site!r} breaks the contract")
    return f"{PREFIX}/{site}/{BRIDGE_LEVEL}/state"


def bridge_client_id(site: str) -> str:
    """The bridge's client id and account at the central broker: ``werkplek-bridge-<site>``."""
    if not is_valid_id(site):
        raise ValueError(f"site id {site!r} breaks the contract")
    return f"{BRIDGE_CLIENT_PREFIX}{site}"


def is_bridge_state_topic(topic: str) -> bool:
    """Cheap routing test: does the topic have the shape of a bridge state?"""
    parts = topic.split("/")
    return len(parts) == 5 and parts[3] == BRIDGE_LEVEL and parts[4] == "state"


def encode_bridge_state(linked: bool | None) -> bytes:
    """The payload Mosquitto writes (tests and tools that stand in for a bridge use it)."""
    if linked is None:
        return b""
    return LINK_UP if linked else LINK_DOWN


def parse_bridge_state(topic: str, payload: bytes) -> BridgeState:
    """Validate one bridge-state message.

    Raises:
        BridgeStateError: ``bad_topic`` or ``bad_status`` (anything but ``1``, ``0`` or empty).
    """
    parts = topic.split("/")
    if (
        len(parts) != 5
        or parts[:2] != [ROOT, f"v{VERSION}"]
        or parts[3:] != [BRIDGE_LEVEL, "state"]
    ):
        raise BridgeStateError("bad_topic", "not a bridge state topic")
    if not is_valid_id(parts[2]):
        raise BridgeStateError("bad_topic", f"invalid site id {parts[2]!r}")
    if payload == b"":
        return BridgeState(parts[2], None)
    if payload not in (LINK_UP, LINK_DOWN):
        raise BridgeStateError("bad_status", f"state must be 1 or 0, got {payload[:20]!r}")
    return BridgeState(parts[2], payload == LINK_UP)
