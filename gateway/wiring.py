"""How a gateway is put together from its settings: history store, topic filters."""

from __future__ import annotations

import functools

import contract
from gateway.lease import LEASE_TOPIC
from gateway.settings import GatewaySettings
from history import HistoryStore, InfluxHistory, SqliteHistory


def create_history(settings: GatewaySettings) -> HistoryStore:
    """InfluxDB when ``influx_url`` is set, else the embedded SQLite file."""
    if settings.influx_url:
        return InfluxHistory(
            settings.influx_url,
            settings.influx_database,
            username=settings.influx_username,
            password=settings.influx_password.get_secret_value()
            if settings.influx_password
            else None,
            token=settings.influx_token.get_secret_value() if settings.influx_token else None,
            raw_retention_days=settings.raw_retention_days,
            hourly_retention_days=settings.hourly_retention_days,
        )
    return SqliteHistory(
        settings.history_path,
        raw_retention_days=settings.raw_retention_days,
        hourly_retention_days=settings.hourly_retention_days,
    )


def subscriptions(settings: GatewaySettings) -> list[str]:
    """The topic filters of a gateway in its role."""
    if settings.gateway_role == "history":
        share = f"$share/{settings.share_group}/"
        # Telemetry is history too: stored by one of the history gateways.
        return [
            share + contract.SUB_PRESENCE,
            contract.SUB_REGISTRY,
            share + contract.SUB_TELEMETRY,
        ]
    return [
        contract.SUB_PRESENCE,
        contract.SUB_STATUS,
        contract.SUB_TELEMETRY,
        contract.SUB_REGISTRY,
        contract.SUB_HEALTH,
        *([LEASE_TOPIC] if settings.failover else []),
    ]


@functools.lru_cache(maxsize=65536)  # a fleet has a few topics per device: split once each
def topic_kind(topic: str) -> str:
    """The metrics label of a topic: presence, status, telemetry, registry or other."""
    parts = topic.split("/")
    if len(parts) == 5 and parts[3] == "_registry":
        return "registry"
    if len(parts) == 5 and parts[4] in contract.DEVICE_KINDS:
        return parts[4]
    return "other"
