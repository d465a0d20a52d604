"""Settings of the all-in-one demo; each service reads its own settings as well."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DemoSettings(BaseSettings):
    """What `werkplek demo` needs beyond the gateway's and the backend's own settings."""

    model_config = SettingsConfigDict(env_prefix="WERKPLEK_", extra="ignore")

    mqtt_url: str | None = Field(
        default=None, description="An external broker; unset starts the embedded one."
    )
    embedded_mqtt_host: str = "127.0.0.1"
    embedded_mqtt_port: int = Field(default=1883, ge=0, le=65535)
    data_dir: Path = Path("var")
    demo_speed: float = Field(default=1.0, gt=0, le=3600)
    demo_seed: int = 0
    #: Weeks of past occupancy written once into a fresh demo's history (0 = none),
    #: so the facility reports show figures at once. Keep it within the raw retention.
    demo_history_weeks: int = Field(default=4, ge=0, le=4)
