"""Occupancy history below both services: stores, the InfluxDB client, the facility readers.

Neither service imports the other; both import this package. Who owns what:

=====================  =================================  ==================  ===================
table / measurement    where (InfluxDB policy / SQLite)   written by          read by
=====================  =================================  ==================  ===================
``presence``           ``raw`` (default) / table          gateway (writer)    backend (cleaning,
                                                                              raw points), Grafana
``telemetry``          ``raw`` / table                    gateway (writer)    Grafana
``presence_hourly``    ``hourly`` / table                 gateway (InfluxDB   backend (facility
                                                          continuous query;   reports, rollup),
                                                          SQLite maintain)    Grafana
``telemetry_hourly``   ``hourly`` (InfluxDB only)         gateway (cont. q.)  Grafana
``facility_daily``     ``facility`` / table               backend (rollup)    backend (reports)
``facility_peak``      ``facility`` / table               backend (rollup)    backend (reports)
=====================  =================================  ==================  ===================

Modules: :mod:`history.base` (points, the store Protocol), :mod:`history.influx`
and :mod:`history.sqlite` (the gateway's stores and their read side),
:mod:`history.influx_client` (the one InfluxDB HTTP client), :mod:`history.retention`
(is retention in place), :mod:`history.settings` (the shared settings),
:mod:`history.facility` (the backend's readers and the rollup's rows). The
policies ``raw``, ``hourly`` and ``facility`` are created by ``werkplek influx
init`` (or by a process with admin rights); both services only check them.
"""

from history.base import (
    HistoryPoint,
    HistoryStore,
    PresencePoint,
    TelemetryPoint,
)
from history.errors import HistoryError, HistoryRejected, HistoryUnavailable
from history.influx import InfluxHistory
from history.settings import HistorySettings
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
    "open_store",
]


def open_store(cfg: HistorySettings) -> HistoryStore:
    """The writer's store: InfluxDB when ``influx_url`` is set, else the embedded SQLite file."""
    if cfg.influx_url:
        token, password = cfg.influx_token, cfg.influx_password
        return InfluxHistory(
            cfg.influx_url,
            cfg.influx_database,
            username=cfg.influx_username,
            password=password.get_secret_value() if password else None,
            token=token.get_secret_value() if token else None,
            raw_retention_days=cfg.raw_retention_days,
            hourly_retention_days=cfg.hourly_retention_days,
        )
    return SqliteHistory(
        cfg.history_path,
        raw_retention_days=cfg.raw_retention_days,
        hourly_retention_days=cfg.hourly_retention_days,
    )
