"""Presence history stores: one Protocol, an InfluxDB and an SQLite implementation."""

from gateway.history.base import HistoryStore, PresencePoint, point_from_message
from gateway.history.influx import InfluxHistory
from gateway.history.sqlite import SqliteHistory

__all__ = [
    "HistoryStore",
    "InfluxHistory",
    "PresencePoint",
    "SqliteHistory",
    "point_from_message",
]
