"""Settings of the facility reports and jobs, read once from ``WERKPLEK_*`` variables."""

from __future__ import annotations

from functools import lru_cache

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.facility.sources import HistorySource, InfluxSource, SqliteSource


class FacilitySettings(BaseSettings):
    """Where the history is, the privacy floor, and the assumptions behind the figures."""

    model_config = SettingsConfigDict(env_prefix="WERKPLEK_", extra="ignore")

    influx_url: str | None = None
    influx_database: str = "werkplek"
    influx_token: str | None = None
    influx_username: str | None = None
    influx_password: str | None = None
    history_path: str = "var/history.sqlite3"
    #: The retention the gateway's store must keep (checked in /healthz; same settings).
    raw_retention_days: int = Field(default=30, ge=0, le=36_500)
    hourly_retention_days: int = Field(default=1825, ge=0, le=36_500)
    facility_min_group: int = Field(default=5, ge=2)
    cleaning_min_minutes: float = Field(default=15.0, ge=0)
    #: A meeting room goes on the list after each use at least this long.
    cleaning_room_min_minutes: float = Field(default=10.0, ge=0)
    #: How often the daily rollup re-runs (0 = never; then POST /facility/rollup).
    facility_rollup_every_s: float = Field(default=3600.0, ge=0)
    #: Wait before the first rollup after start, so short-lived processes never run it.
    facility_rollup_delay_s: float = Field(default=30.0, ge=0)
    #: Energy assumptions (shown with every energy figure).
    energy_kw_per_zone: float = Field(default=4.0, gt=0)
    energy_setback_saving: float = Field(default=0.6, gt=0, le=1)
    energy_setback_below: float = Field(default=0.05, ge=0, le=1)
    energy_history_weeks: int = Field(default=8, ge=1, le=52)
    #: HVAC zone commands are only logged (dry run) unless this is true.
    hvac_publish: bool = False

    def influx_auth(self) -> tuple[dict[str, str], httpx.BasicAuth | None]:
        """The read credential as request headers (a token) or basic auth (a user).

        One place for it, so the health probe, the metrics probe and the privacy
        report send exactly what the facility reports send.
        """
        headers = {"Authorization": f"Token {self.influx_token}"} if self.influx_token else {}
        user = self.influx_username
        return headers, httpx.BasicAuth(user, self.influx_password or "") if user else None


@lru_cache(maxsize=1)
def facility_settings() -> FacilitySettings:
    """The settings, read once."""
    return FacilitySettings()


def open_source(cfg: FacilitySettings | None = None) -> HistorySource:
    """The configured history store (InfluxDB when set, else the SQLite file)."""
    cfg = cfg or facility_settings()
    if cfg.influx_url:
        return InfluxSource(
            cfg.influx_url,
            cfg.influx_database,
            token=cfg.influx_token,
            username=cfg.influx_username,
            password=cfg.influx_password,
        )
    return SqliteSource(cfg.history_path)
