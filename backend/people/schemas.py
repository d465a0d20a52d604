"""Pydantic schemas of login and users (the data export is ``backend.privacy.export``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["employee", "facility", "admin", "signage", "integration", "panel"]


class LocalLogin(BaseModel):
    """Body of ``POST /api/v1/auth/login``."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class OidcLogin(BaseModel):
    """Body of ``POST /api/v1/auth/oidc``: the ID token the IdP gave the client."""

    model_config = ConfigDict(extra="forbid")

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


class Preferences(BaseModel):
    """Body of ``PATCH /api/v1/me``."""

    model_config = ConfigDict(extra="forbid")

    show_presence: bool


class Session(BaseModel):
    """A login result: the bearer token (shown once) and its expiry."""

    token: str
    expires_at: datetime
    user: UserPublic

