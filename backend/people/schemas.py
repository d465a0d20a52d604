"""Pydantic schemas of login and users (the data export is ``backend.privacy.export``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Role = Literal["employee", "facility", "admin", "signage", "integration", "panel"]


class AnonymousBody(BaseModel):
    """Base of bodies anyone may send before logging in: unknown keys cost one check.

    ``extra="forbid"`` alone makes pydantic build one error per unknown key, which
    for a body of 80,000 keys took a second of the event loop. Here the keys are
    compared once and the whole body is refused with a single error.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _known_keys_only(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.keys() <= cls.model_fields.keys():
            unknown = len(data.keys() - cls.model_fields.keys())
            raise ValueError(f"{unknown} unknown field(s); expected {sorted(cls.model_fields)}")
        return data


class LocalLogin(AnonymousBody):
    """Body of ``POST /api/v1/auth/login``."""

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class OidcLogin(AnonymousBody):
    """Body of ``POST /api/v1/auth/oidc``: the ID token the IdP gave the client."""

    id_token: str = Field(min_length=10, max_length=20000)


class UserPublic(BaseModel):
    """A user as they and admins see them."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    email: str | None
    role: Role
    show_presence: bool
    active: bool


class UserCreate(BaseModel):
    """Body of ``POST /api/v1/users`` (admin)."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._@-]+$")
    display_name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=200)
    role: Role = "employee"
    password: str | None = Field(default=None, min_length=10, max_length=1000)


class UserChange(BaseModel):
    """Body of ``PATCH /api/v1/users/{id}`` (admin): a new role, or (de)activation."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> UserChange:
        if self.role is None and self.active is None:
            raise ValueError("give a role, active, or both")
        return self


class Preferences(BaseModel):
    """Body of ``PATCH /api/v1/me``."""

    model_config = ConfigDict(extra="forbid")

    show_presence: bool


class Session(BaseModel):
    """A login result: the bearer token (shown once) and its expiry."""

    token: str
    expires_at: datetime
    user: UserPublic
