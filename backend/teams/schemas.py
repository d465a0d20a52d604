"""Pydantic schemas of the team API."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class TeamCreate(BaseModel):
    """Body of ``POST /api/v1/teams`` (admin)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    oidc_group: str | None = Field(default=None, min_length=1, max_length=200)
    home_site_id: str | None = Field(default=None, min_length=1, max_length=63)
    home_zone: str | None = Field(default=None, min_length=1, max_length=63)


class TeamChange(BaseModel):
    """Body of ``PATCH /api/v1/teams/{id}``: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    home_site_id: str | None = Field(default=None, min_length=1, max_length=63)
    home_zone: str | None = Field(default=None, min_length=1, max_length=63)


class TeamPublic(BaseModel):
    """A team with its size; never a list of who is where."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    oidc_group: str | None
    home_site_id: str | None
    home_zone: str | None
    members: int = 0


class Sharing(BaseModel):
    """The caller's choice to show their plan by name to their teams (default off)."""

    model_config = ConfigDict(extra="forbid")

    share_with_team: bool


class MyTeams(BaseModel):
    """The caller's teams and sharing choice."""

    share_with_team: bool
    teams: list[TeamPublic]


class PlaceCount(BaseModel):
    """Team members (besides the caller) planning one place on one day.

    ``count`` includes members who do not share; ``names`` lists only those who share.
    """

    place: str
    site_id: str | None
    site_name: str | None
    site_kind: str | None
    count: int
    names: list[str]


class TeamDay(BaseModel):
    """One day of a team's week."""

    day: date
    places: list[PlaceCount]


class TeamWeek(BaseModel):
    """Where a team plans to be in one week, as counts plus the names of those who share."""

    team_id: int
    team_name: str
    week: date
    days: list[TeamDay]
