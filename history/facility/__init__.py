"""The facility reports' side of history: readers of hourly history and the daily rollup.

The backend reads the gateway's hourly history through a :class:`HistorySource`
and writes and reads its own daily rollup (``facility_daily``, ``facility_peak``)
with it; :func:`open_source` picks InfluxDB or the SQLite file from the settings.

Both sources aggregate inside the store (SQL GROUP BY, InfluxQL sum/count), so a
year of 5,000 spaces never travels as raw points. Reports over long periods read
the daily rollup: one row per group of spaces (site, floor, zone, kind) and local
day with 24 hourly sums and the day's opening-time sums, written by the
backend's rollup job. A year is then groups x 365 rows, and the utilisation
report asks the store to add up three fields of them into one row per group.
"""

from __future__ import annotations

from history.facility.base import (
    CNT,
    DAILY,
    EMPTY,
    HOURS,
    OCC,
    PEAK,
    ROLLUP_RP,
    ROLLUP_SHARD,
    TAGS,
    DayRow,
    GroupHour,
    GroupKey,
    GroupTotal,
    HistorySource,
    PeakRow,
    SiteTimeZones,
    group_key,
)
from history.facility.influx import InfluxSource, hourly_query, peaks_query, totals_query
from history.facility.sqlite import SqliteSource
from history.settings import HistorySettings

__all__ = [
    "CNT",
    "DAILY",
    "EMPTY",
    "HOURS",
    "OCC",
    "PEAK",
    "ROLLUP_RP",
    "ROLLUP_SHARD",
    "TAGS",
    "DayRow",
    "GroupHour",
    "GroupKey",
    "GroupTotal",
    "HistorySource",
    "InfluxSource",
    "PeakRow",
    "SiteTimeZones",
    "SqliteSource",
    "group_key",
    "hourly_query",
    "open_source",
    "peaks_query",
    "totals_query",
]


def open_source(cfg: HistorySettings) -> HistorySource:
    """The configured history for the reports: InfluxDB when set, else the SQLite file."""
    if cfg.influx_url:
        token, password = cfg.influx_token, cfg.influx_password
        return InfluxSource(
            cfg.influx_url,
            cfg.influx_database,
            token=token.get_secret_value() if token else None,
            username=cfg.influx_username,
            password=password.get_secret_value() if password else None,
        )
    return SqliteSource(cfg.history_path)
