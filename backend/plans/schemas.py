"""Pydantic schemas of the week plan API."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Place = Literal["site", "home"]


class PlaceChoice(BaseModel):
    """A place to plan: a site (``site_id`` required) or home (no ``site_id``)."""

    model_config = ConfigDict(extra="forbid")

    place: Place
    site_id: str | None = Field(default=None, min_length=1, max_length=63)

    @model_validator(mode="after")
    def _site_matches_place(self) -> PlaceChoice:
        if self.place == "site" and self.site_id is None:
            raise ValueError("a plan at a site needs site_id")
        if self.place == "home" and self.site_id is not None:
            raise ValueError("a plan at home has no site_id")
        return self


class PatternDay(PlaceChoice):
    """One weekday (0 = Monday) of the default week."""

    weekday: int = Field(ge=0, le=6)


class Pattern(BaseModel):
    """The default week: the weekdays listed; a weekday left out stays empty."""

    model_config = ConfigDict(extra="forbid")

    days: list[PatternDay] = Field(max_length=7)

    @model_validator(mode="after")
    def _each_weekday_once(self) -> Pattern:
        weekdays = [d.weekday for d in self.days]
        if len(weekdays) != len(set(weekdays)):
            raise ValueError("each weekday may appear only once")
        return self


class WeekAction(BaseModel):
    """Body of copy-last-week and apply-pattern: the week (any day in it) to fill."""

    model_config = ConfigDict(extra="forbid")

    week: date
    #: Replace days already planned too (default: fill only empty days).
    overwrite: bool = False


class DeskOfDay(BaseModel):
    """The caller's active desk booking of a day, which fills the plan in."""

    booking_id: int
    space_id: str
    space_name: str
    floor_id: str
    zone: str | None


class PlanDay(BaseModel):
    """One day of the caller's week; ``place`` None means nothing planned."""

    day: date
    place: Place | None
    site_id: str | None
    site_name: str | None
    site_kind: str | None
    #: manual, copy, pattern, or booking (a desk booking filled the day in).
    source: str | None
    desk: DeskOfDay | None


class Week(BaseModel):
    """The caller's plan for one week (Monday to Sunday)."""

    week: date
    days: list[PlanDay]


class DeskSuggestion(BaseModel):
    """A desk free all day at the planned site, and why it is suggested."""

    space_id: str
    name: str
    floor_id: str
    floor_name: str
    zone: str | None
    #: near_team (sharing colleagues booked in this zone), team_zone (a team's home zone)
    #: or None (any free desk).
    reason: Literal["near_team", "team_zone"] | None


class Suggestions(BaseModel):
    """Free desks for a planned day, best first."""

    day: date
    site_id: str
    site_name: str
    near_team: bool
    desks: list[DeskSuggestion]
