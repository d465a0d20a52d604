"""Where the history is and how long it is kept: one validated settings object for both services.

:class:`HistorySettings` holds the ``WERKPLEK_*`` variables of the history store
(InfluxDB address, database and credential, the SQLite file, the retention
periods). The gateway's and the backend's settings classes are built on it, so
each variable has one name, one type and one validation wherever it is read.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class HistorySettings(BaseSettings):
    """The history store: InfluxDB when ``influx_url`` is set, else the SQLite file."""

    model_config = SettingsConfigDict(env_prefix="WERKPLEK_", extra="ignore")

    influx_url: str | None = None
    influx_database: str = Field(default="werkplek", min_length=1)
    #: Either a token (InfluxDB 2.x/3) or a user with password (1.x), never both.
    influx_username: str | None = None
    influx_password: SecretStr | None = None
    influx_token: SecretStr | None = None
    #: The embedded store (demo, single box): written by the gateway, read by the backend.
    history_path: Path = Path("var/history.sqlite3")
    #: Raw presence history is kept this many days (0 = forever).
    raw_retention_days: int = Field(default=30, ge=0, le=36_500)
    #: Hourly occupancy per space is kept this many days (0 = forever).
    hourly_retention_days: int = Field(default=1825, ge=0, le=36_500)

    @field_validator("influx_url")
    @classmethod
    def _check_influx_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"influx_url must be an http(s) URL, got {value!r}")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _check_influx_auth(self) -> HistorySettings:
        if self.influx_token is not None and self.influx_username is not None:
            raise ValueError("set either influx_token or influx_username/password, not both")
        if (self.influx_username is None) != (self.influx_password is None):
            raise ValueError("influx_username and influx_password go together")
        return self
