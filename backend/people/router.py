"""Login (local and OpenID Connect), the caller's own data, user management, audit log."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import select

from backend.auth import throttle
from backend.dependencies import AdminDep, BookerDep, ManagerDep, RuntimeDep, SessionDep
from backend.errors import Conflict, NotFound, Unavailable
from backend.people import audit
from backend.people import service as people
from backend.people.models import AuditLog
from backend.people.schemas import (
    LocalLogin,
    OidcLogin,
    Preferences,
    Session,
    UserChange,
    UserCreate,
    UserPublic,
)

router = APIRouter(prefix="/api/v1", tags=["people"])


def _session(runtime: RuntimeDep, session: SessionDep, user: Any) -> Session:
    token, expires = people.issue_session(session, user, runtime.settings.session_hours)
    return Session(token=token, expires_at=expires, user=UserPublic.model_validate(user))


@router.post("/auth/login", response_model=Session)
def login(body: LocalLogin, request: Request, session: SessionDep, runtime: RuntimeDep) -> Session:
    """Log in with a local account (the embedded default); returns a session token.

    Runs in the thread pool (a plain ``def``): argon2 takes tens of milliseconds
    of CPU, which must not hold up the event loop and the screens' streams.
    """
    source = throttle.source_of(request.client.host if request.client else None)
    attempt = throttle.Attempt.of(
        body.username, source, runtime.settings.login_limits(), runtime.settings.source_limits()
    )
    user = people.login_local(session, body.username, body.password, attempt, source)
    return _session(runtime, session, user)


@router.post("/auth/oidc", response_model=Session)
def login_oidc(body: OidcLogin, session: SessionDep, runtime: RuntimeDep) -> Session:
    """Exchange an ID token of the municipality's identity provider for a session token."""
    s = runtime.settings
    if not (s.oidc_issuer and s.oidc_audience and s.oidc_jwks_url):
        raise Unavailable("OpenID Connect is not configured", reason="oidc_not_configured")
    claims = people.verify_id_token(
        body.id_token, jwks_url=s.oidc_jwks_url, issuer=s.oidc_issuer, audience=s.oidc_audience
    )
    return _session(runtime, session, people.login_oidc(session, claims))


def _me(session: SessionDep, token: BookerDep) -> Any:
    if token.user_id is None:
        raise NotFound("this token belongs to no person", reason="no_user")
    return people.get_user(session, token.user_id)


@router.get("/me", response_model=UserPublic)
def read_me(session: SessionDep, token: BookerDep) -> UserPublic:
    """Return the caller."""
    return UserPublic.model_validate(_me(session, token))


@router.patch("/me", response_model=UserPublic)
def update_me(body: Preferences, session: SessionDep, token: BookerDep) -> UserPublic:
    """Opt out of (or back into) being shown as present to colleagues."""
    user = _me(session, token)
    user.show_presence = body.show_presence
    audit.record(
        session, f"user:{user.id}", "user.preferences", "user", user.id,
        actor_user_id=user.id, show_presence=body.show_presence,
    )  # fmt: skip
    session.commit()
    return UserPublic.model_validate(user)


@router.post("/users", response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, session: SessionDep, token: AdminDep) -> UserPublic:
    """Create a user; with a password it is a local account."""
    user = people.create_user(session, actor=audit.actor_of(token), **body.model_dump())
    return UserPublic.model_validate(user)


@router.patch("/users/{user_id}", response_model=UserPublic)
def update_user(
    user_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: UserChange,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    token: AdminDep,
) -> UserPublic:
    """Change a person's role or (de)activate them; takes effect on their sessions at once.

    Their cached tokens are dropped in this process and their open streams are
    re-checked now (other replicas: within ``TOKEN_CACHE_S`` and one stream re-check).
    """
    if body.active is False and token.user_id == user_id:
        raise Conflict("you cannot deactivate yourself", reason="self_deactivation")
    user = people.change_user(
        session, user_id, role=body.role, active=body.active, actor=audit.actor_of(token)
    )
    runtime.tokens.forget(lambda row: row.user_id == user_id)
    request.app.state.stream_watch.poke()
    return UserPublic.model_validate(user)


@router.get("/audit")
def read_audit(
    session: SessionDep,
    _token: ManagerDep,
    object_type: str | None = None,
    object_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Read the audit log, newest first."""
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit).offset(offset)
    if object_type is not None:
        query = query.where(AuditLog.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditLog.object_id == object_id)
    return [
        {
            "at": a.at.isoformat(),
            "actor": a.actor,
            "action": a.action,
            "object_type": a.object_type,
            "object_id": a.object_id,
            "detail": json.loads(a.detail),
        }
        for a in session.scalars(query)
    ]
