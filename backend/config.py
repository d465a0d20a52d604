"""Typed settings of the backend, read once from ``WERKPLEK_*`` environment variables."""

from __future__ import annotations

import ssl
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, FilePath, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from backend.database_limits import DatabaseLimits
from backend.facility.settings import FacilitySettings
from common.mqtt_tls import check_settings, client_context
from common.mqtt_url import parse_mqtt_url
from common.resources import dashboards_dir

if TYPE_CHECKING:
    from backend.auth.throttle import Limits


#: Defaults of the database limits, which the ``db_*`` settings below override.
_DB = DatabaseLimits()


def _signage_dir() -> Path:
    """The installed signage pages (package data, so a ``pip install .`` has them too)."""
    return dashboards_dir() / "signage"


class Settings(FacilitySettings):
    """Everything the backend process can be configured with.

    Built on :class:`FacilitySettings`, which is built on the shared
    :class:`history.settings.HistorySettings`: the history store's variables are
    validated as the gateway validates them, and the facility reports read the
    settings the app was created with.
    """

    model_config = SettingsConfigDict(env_prefix="WERKPLEK_", extra="ignore")

    database_url: str = "sqlite:///var/werkplek.sqlite3"
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_protocol: Literal["5", "3.1.1"] = "5"
    #: Tests of the plain API run without a broker; production always connects.
    mqtt_enabled: bool = True
    mqtt_client_id: str | None = None
    #: With ``mqtts://``: the CA (PEM) the broker's certificate must chain to (unset: the
    #: system's CAs); a client certificate and key (PEM) only for a broker that asks for one.
    mqtt_ca_file: FilePath | None = None
    mqtt_cert_file: FilePath | None = None
    mqtt_key_file: FilePath | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    #: Age limit (by ``updated``) for a space state while no gateway status is known;
    #: a live gateway keeps its retained states current itself.
    stale_after_s: float = Field(default=180.0, gt=0)
    bootstrap_admin_token: str | None = None
    #: The booking app, facility pages and shared client are served from its sibling folders.
    signage_dir: Path = Field(default_factory=_signage_dir)
    #: SSE keep-alive comment interval; proxies drop idle connections otherwise.
    sse_ping_s: float = Field(default=15.0, gt=0)
    #: Events buffered per SSE client before it is resynchronised with a snapshot.
    sse_queue_size: int = Field(default=64, ge=1)
    #: Open SSE streams per process; more get 503 + Retry-After instead of degrading all.
    sse_max_clients: int = Field(default=1000, ge=1)
    #: Open SSE streams of one token; more get 429 (give each screen its own token).
    sse_max_per_token: int = Field(default=50, ge=1)
    #: How often open streams re-check that their token is live (revoked, expired,
    #: person deactivated); a change made through this process is checked at once.
    stream_recheck_s: float = Field(default=1.0, gt=0)
    #: How often silent spaces are re-checked for staleness.
    stale_check_s: float = Field(default=1.0, gt=0)
    #: How often the registry is re-read, so spaces added by another process appear.
    registry_reload_s: float = Field(default=30.0, gt=0)
    #: How often the booking scheduler checks in, releases and refreshes ``booked``.
    booking_check_s: float = Field(default=5.0, gt=0)
    #: Days person-linked records (bookings, audit actors, sessions) are kept after use.
    retention_days: int = Field(default=30, ge=1)
    #: Largest request body read; larger ones get 413 before anything parses them.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    #: Login throttle (``backend.auth.throttle``): attempts of one account from one
    #: address, and of one address in all, before each further one must wait longer.
    login_free_attempts: int = Field(default=5, ge=1)
    login_source_free_attempts: int = Field(default=20, ge=1)
    #: The first wait after the free attempts; it doubles per attempt up to the max.
    login_backoff_s: float = Field(default=1.0, gt=0)
    login_backoff_max_s: float = Field(default=900.0, gt=0)
    #: Lifetime of a login session token.
    session_hours: float = Field(default=10.0, gt=0)
    #: OpenID Connect: issuer, client id (the ID token's audience) and the IdP's JWKS URL.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    #: Single sign-on (authorization code flow with PKCE, ``backend.auth.oidc_router``):
    #: on when issuer, client id and redirect URL are set. The issuer's discovery document
    #: names the endpoints; no secret: a public client (PKCE only).
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    #: This backend's ``/api/v1/auth/oidc/callback`` as the provider has it registered.
    oidc_redirect_url: str | None = None
    oidc_scopes: str = "openid profile email"
    #: The ID-token claim that proposes a user name (people are keyed by issuer + subject).
    oidc_username_claim: str = "preferred_username"
    #: The claim listing the person's groups; with it, each login sets the role from
    #: ``oidc_role_groups`` (group -> facility or admin; no match: employee).
    oidc_groups_claim: str | None = None
    oidc_role_groups: dict[str, Literal["facility", "admin"]] = Field(default_factory=dict)
    #: HMAC key of the login-flow cookies; replicas behind one address share it.
    #: Unset: a random key per process (a login in progress during a restart starts over).
    oidc_state_key: SecretStr | None = None
    #: A token signed with an unknown key fetches the provider's keys again, at most this often.
    oidc_jwks_refetch_s: float = Field(default=10.0, gt=0)
    #: HMAC key of the short-lived stream tokens; replicas behind one address share it.
    #: Unset: a random key per process (after a restart screens just ask for a new token).
    stream_token_key: SecretStr | None = None
    #: ``werkplek healthcheck backend`` fails once the broker link is down this long.
    health_max_disconnected_s: float = Field(default=60.0, gt=0)
    #: How often /healthz checks the history store and its retention again (cached between).
    history_check_s: float = Field(default=60.0, gt=0)
    #: The database pool and wait bounds (``WERKPLEK_DB_*``; ``backend.database_limits``).
    db_pool_size: int = Field(default=_DB.pool_size, ge=1)
    db_max_overflow: int = Field(default=_DB.max_overflow, ge=0)
    db_pool_timeout_s: float = Field(default=_DB.pool_timeout_s, gt=0)
    db_lock_timeout_ms: int = Field(default=_DB.lock_timeout_ms, ge=1)
    db_statement_timeout_ms: int = Field(default=_DB.statement_timeout_ms, ge=1)
    db_idle_in_transaction_ms: int = Field(default=_DB.idle_in_transaction_ms, ge=1)

    @model_validator(mode="after")
    def _check_mqtt_tls(self) -> Settings:
        tls = parse_mqtt_url(self.mqtt_url).tls
        check_settings(tls, self.mqtt_ca_file, self.mqtt_cert_file, self.mqtt_key_file)
        return self

    @model_validator(mode="after")
    def _check_oidc(self) -> Settings:
        # Half a single sign-on configuration would silently leave it off; refuse to start.
        flow = (self.oidc_client_id, self.oidc_redirect_url)
        if any(flow) and not (all(flow) and self.oidc_issuer):
            raise ValueError(
                "single sign-on needs WERKPLEK_OIDC_ISSUER, WERKPLEK_OIDC_CLIENT_ID and "
                "WERKPLEK_OIDC_REDIRECT_URL together"
            )
        for url in (self.oidc_issuer, self.oidc_redirect_url):
            if url is not None and not url.startswith(("https://", "http://")):
                raise ValueError(f"an OpenID Connect URL must be http(s): {url!r}")
        return self

    def database_limits(self) -> DatabaseLimits:
        """The pool size and wait bounds the backend's engine is made with."""
        return DatabaseLimits(
            pool_size=self.db_pool_size,
            max_overflow=self.db_max_overflow,
            pool_timeout_s=self.db_pool_timeout_s,
            lock_timeout_ms=self.db_lock_timeout_ms,
            statement_timeout_ms=self.db_statement_timeout_ms,
            idle_in_transaction_ms=self.db_idle_in_transaction_ms,
        )

    def mqtt_tls(self) -> ssl.SSLContext | None:
        """The TLS context for an ``mqtts://`` broker; None for a plain one."""
        if not parse_mqtt_url(self.mqtt_url).tls:
            return None
        return client_context(self.mqtt_ca_file, self.mqtt_cert_file, self.mqtt_key_file)

    def login_limits(self) -> Limits:
        """Throttle limits of one account from one source address."""
        from backend.auth.throttle import Limits  # the settings stay free of models

        return Limits(self.login_free_attempts, self.login_backoff_s, self.login_backoff_max_s)

    def source_limits(self) -> Limits:
        """Throttle limits of one source address over all accounts."""
        from backend.auth.throttle import Limits

        free = self.login_source_free_attempts
        return Limits(free, self.login_backoff_s, self.login_backoff_max_s)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (cached; tests pass their own to ``create_app``)."""
    return Settings()
