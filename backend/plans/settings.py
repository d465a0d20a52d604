"""Settings of the week plans, read once from ``WERKPLEK_*`` variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlanSettings(BaseSettings):
    """How long plans are kept: the retention job deletes days older than this."""

    model_config = SettingsConfigDict(env_prefix="WERKPLEK_", extra="ignore")

    #: Plans (and so the sustainability figures from them) reach back this many weeks.
    plan_retention_weeks: int = Field(default=26, ge=1, le=520)


@lru_cache(maxsize=1)
def plan_settings() -> PlanSettings:
    """The settings, read once."""
    return PlanSettings()
