"""Users, local passwords (argon2), OpenID Connect ID tokens and login sessions."""

from __future__ import annotations

import functools
import logging
import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.auth import throttle
from backend.auth.feed import FEED_ROLE
from backend.auth.models import ApiToken
from backend.auth.service import hash_token
from backend.clock import utcnow
from backend.errors import Conflict, InvalidInput, NotFound, Unauthorized
from backend.people import audit
from backend.people.models import ROLES, User

log = logging.getLogger(__name__)
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so timing does not reveal usernames.

    Made on first use rather than at import: hashing costs a tenth of a second of
    CPU, which every command that imports the backend would otherwise pay.
    """
    return _hasher.hash("not-a-password")


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: str = "employee",
    email: str | None = None,
    password: str | None = None,
    subject: str | None = None,
    actor: str = "system",
) -> User:
    """Create a user (local account when a password is given) and audit it."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; use one of {ROLES}", reason="bad_role")
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        email=email,
        subject=subject,
        password_hash=_hasher.hash(password) if password else None,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"user {username!r} exists already", reason="user_exists") from exc
    audit.record(session, actor, "user.create", "user", user.id, role=role)
    session.commit()
    return user


def get_user(session: Session, user_id: int) -> User:
    """Return one user or raise NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist", reason="user_not_found")
    return user


def change_user(
    session: Session, user_id: int, *, role: str | None, active: bool | None, actor: str
) -> User:
    """Change a person's role or (de)activate them; their tokens follow at once.

    Deactivation revokes every token of the person (sessions, calendar feed); a
    new role is written into their login sessions. ``authenticate`` checks the
    person too, so a token another replica has cached stops within its cache time.
    """
    user = get_user(session, user_id)
    now = utcnow()
    if role is not None and role != user.role:
        user.role = role
        session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.expires_at.is_not(None))
            .where(ApiToken.role != FEED_ROLE)
            .values(role=role)
        )
    revoked = 0
    if active is not None and active != user.active:
        user.active = active
        if not active:
            result = session.execute(
                update(ApiToken)
                .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            revoked = int(result.rowcount)  # type: ignore[attr-defined]
    audit.record(
        session, actor, "user.update", "user", user_id, at=now,
        role=user.role, active=user.active, revoked_tokens=revoked,
    )  # fmt: skip
    session.commit()
    return user


def issue_session(session: Session, user: User, hours: float) -> tuple[str, datetime]:
    """Create a login token for ``user`` with the user's role; return it and its expiry."""
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(hours=hours)
    session.add(
        ApiToken(
            name="login session",  # the user_id links it; a name here would outlive it
            role=user.role,
            token_hash=hash_token(token),
            user_id=user.id,
            expires_at=expires,
        )
    )
    user.last_login_at = utcnow()
    audit.record(session, f"user:{user.id}", "login", "user", user.id, actor_user_id=user.id)
    session.commit()
    return token, expires


def login_local(
    session: Session, username: str, password: str, attempt: throttle.Attempt, source: str
) -> User:
    """Check a local account's password (argon2) and return the user.

    The attempt is counted first (``backend.auth.throttle``); a failure is audited
    and logged with its cause, never with the password.

    Raises:
        RateLimited: this source, or this account from this source, must wait.
        Unauthorized: unknown user, no local password, wrong password or inactive user.
    """
    now = utcnow()
    throttle.admit(session, attempt, now)
    user = session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    try:
        _hasher.verify(stored, password)
        verified = True
    except (VerificationError, InvalidHashError):
        verified = False
    if user is None or user.password_hash is None or not verified or not user.active:
        _failed_login(session, user, verified, source, now)
        raise Unauthorized("unknown user or wrong password", reason="bad_credentials")
    throttle.succeeded(session, attempt, now)
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return user


def _failed_login(
    session: Session, user: User | None, verified: bool, source: str, now: datetime
) -> None:
    if user is None:
        why = "unknown_user"
    elif user.password_hash is None:
        why = "no_local_password"
    elif not verified:
        why = "wrong_password"
    else:
        why = "account_disabled"
    target = user.id if user is not None else "unknown"
    audit.record(session, "anonymous", "login.failed", "user", target, at=now, why=why)
    session.commit()
    log.warning("login failed: user %s from %s (%s)", target, source, why)


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    # One client per URL caches the IdP's keys between logins.
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=300)


def verify_id_token(token: str, *, jwks_url: str, issuer: str, audience: str) -> dict[str, Any]:
    """Validate an OpenID Connect ID token against the IdP's JWKS; return its claims.

    Raises:
        Unauthorized: bad signature, wrong issuer or audience, expired, or no ``sub``.
    """
    try:
        key = _jwks_client(jwks_url).get_signing_key_from_jwt(token)
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=["RS256", "ES256", "PS256"],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            leeway=30,
        )
    except jwt.PyJWTError as exc:
        # The library's own text can echo token contents; the client gets our words.
        log.info("ID token refused: %s", type(exc).__name__)
        raise Unauthorized(
            f"the ID token is not valid ({_id_token_problem(exc)})", reason="bad_id_token"
        ) from exc
    return claims


def _id_token_problem(exc: jwt.PyJWTError) -> str:
    for kind, text in (
        (jwt.ExpiredSignatureError, "it has expired"),
        (jwt.InvalidAudienceError, "it is for another client"),
        (jwt.InvalidIssuerError, "another issuer made it"),
        (jwt.MissingRequiredClaimError, "a required claim is missing"),
        (jwt.InvalidSignatureError, "its signature does not verify"),
        (jwt.PyJWKClientError, "its signing key is not known"),
        (jwt.DecodeError, "it cannot be read"),
    ):
        if isinstance(exc, kind):
            return text
    return "it was refused"


def login_oidc(session: Session, claims: dict[str, Any]) -> User:
    """Find or create the user of validated ID-token claims (new users are employees)."""
    subject = f"{claims['iss']}|{claims['sub']}"
    user = session.scalar(select(User).where(User.subject == subject))
    name = str(claims.get("name") or claims.get("preferred_username") or claims["sub"])
    if user is None:
        # Never a claimed panel, screen or local account name (backend.auth.oidc_users).
        from backend.auth.oidc_users import username_for  # noqa: PLC0415 (an import cycle)

        username = username_for(session, claims, "preferred_username")
        user = create_user(
            session,
            username=username,
            display_name=name[:200],
            email=claims.get("email"),
            subject=subject,
            actor="oidc",
        )
    if not user.active:
        raise Unauthorized("this account is disabled", reason="account_disabled")
    return user
