"""How a gateway is put together from its settings: history store, topic filters."""

from __future__ import annotations

import functools

import contract
from contract.errors import TopicError
from contract.topics import LEASE_TOPIC, gateway_sync_topic, parse_topic
from gateway.settings import GatewaySettings
from history import HistoryStore, open_store


def create_history(settings: GatewaySettings) -> HistoryStore:
    """InfluxDB when ``influx_url`` is set, else the embedded SQLite file."""
    return open_store(settings)


def subscriptions(settings: GatewaySettings) -> list[str]:
    """The topic filters of a gateway in its role."""
    if settings.gateway_role == "history":
        share = f"$share/{settings.share_group}/"
        # Telemetry is history too: stored by one of the history gateways.
        return [
            share + contract.SUB_PRESENCE,
            contract.SUB_REGISTRY,
            share + contract.SUB_TELEMETRY,
            gateway_sync_topic(settings.gateway_id),
        ]
    return [
        contract.SUB_PRESENCE,
        contract.SUB_STATUS,
        contract.SUB_TELEMETRY,
        contract.SUB_REGISTRY,
        contract.SUB_HEALTH,
        *([LEASE_TOPIC] if settings.failover else []),
        gateway_sync_topic(settings.gateway_id),  # last: its marker follows the retained ones
    ]


@functools.lru_cache(maxsize=65536)  # a fleet has a few topics per device: split once each
def topic_kind(topic: str) -> str:
    """The metrics label of a topic: presence, status, telemetry, registry or other.

    Broken topics get a label too (by their shape: they are counted as received,
    then rejected), so this does not stop at :func:`contract.parse_topic`'s verdict.
    """
    try:
        kind = parse_topic(topic).kind
    except TopicError:
        parts = topic.split("/")
        if len(parts) != 5:
            return "other"
        kind = "registry" if parts[3] == "_registry" else parts[4]
    return kind if kind in _COUNTED else "other"


_COUNTED = frozenset(("presence", "status", "telemetry", "registry", "config"))
