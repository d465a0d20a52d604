"""Presence history stores: one Protocol, an InfluxDB and an SQLite implementation."""

from gateway.history.base import (
    HistoryPoint,
    HistoryStore,
    PresencePoint,
    TelemetryPoint,
    point_from_message,
    telemetry_point,
)
from gateway.history.influx import InfluxHistory
from gateway.history.sqlite import SqliteHistory

__all__ = [
    "HistoryPoint",
    "HistoryStore",
    "InfluxHistory",
    "PresencePoint",
    "SqliteHistory",
    "TelemetryPoint",
    "point_from_message",
    "telemetry_point",
]
