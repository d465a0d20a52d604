"""Occupancy history below both services: stores, the InfluxDB client, the facility readers.

The gateway writes raw presence and telemetry through a :class:`HistoryStore`
(InfluxDB or an SQLite file); the backend reads it for the facility reports.
Neither service imports the other: both import this package.
"""

from history.base import (
    HistoryPoint,
    HistoryStore,
    PresencePoint,
    TelemetryPoint,
)
from history.errors import HistoryError, HistoryRejected, HistoryUnavailable
from history.influx import InfluxHistory
from history.sqlite import SqliteHistory

__all__ = [
    "HistoryError",
    "HistoryPoint",
    "HistoryRejected",
    "HistoryStore",
    "HistoryUnavailable",
    "InfluxHistory",
    "PresencePoint",
    "SqliteHistory",
    "TelemetryPoint",
]
