"""Settings of teams from the identity provider, read once from ``WERKPLEK_*`` variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TeamSettings(BaseSettings):
    """Which claim of the ID token lists a person's groups, and which groups are teams.

    A team follows a group when an admin made it with that ``oidc_group``, or when the
    group starts with ``oidc_team_prefix`` (then the team is made at the first login
    that names it; an empty prefix turns that off). ``oidc_team_claim`` is separate from
    ``oidc_groups_claim`` (roles), so teams never switch role mapping on.
    """

    model_config = SettingsConfigDict(env_prefix="WERKPLEK_", extra="ignore")

    oidc_team_claim: str = Field(default="groups", min_length=1, max_length=100)
    oidc_team_prefix: str = Field(default="team-", max_length=100)


@lru_cache(maxsize=1)
def team_settings() -> TeamSettings:
    """The settings, read once."""
    return TeamSettings()
