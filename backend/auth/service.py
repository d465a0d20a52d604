"""Issue and check API tokens.

Roles (``backend.people.models.ROLES``): ``admin`` and ``facility`` manage,
``employee`` books for themself, ``signage`` and ``integration`` only read, ``panel``
(a room's door panel) reads and books its own room now. Login
sessions of people are tokens with a ``user_id`` and an expiry.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.auth.feed import FEED_ROLE, looks_like_feed_token
from backend.auth.models import ApiToken
from backend.auth.stream import looks_like_stream_token
from backend.clock import utcnow
from backend.errors import InvalidInput, Unauthorized
from backend.people.models import ROLES, User


def hash_token(token: str) -> str:
    """Return the hex sha256 of a token (tokens are long random strings, so no salt)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, role: str, name: str, *, user_id: int | None = None) -> str:
    """Create a token for ``role``, store its hash and return the token (shown only once)."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; use one of {ROLES}", reason="bad_role")
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, role=role, token_hash=hash_token(token), user_id=user_id))
    session.commit()
    return token


def ensure_token(session: Session, token: str, role: str, name: str) -> bool:
    """Store a given token (the bootstrap admin token) unless it exists; True if added."""
    digest = hash_token(token)
    if session.scalar(select(ApiToken).where(ApiToken.token_hash == digest)) is not None:
        return False
    session.add(ApiToken(name=name, role=role, token_hash=digest))
    session.commit()
    return True


def authenticate(session: Session, token: str | None) -> ApiToken:
    """Return the live token row for ``token``.

    Raises:
        Unauthorized: no token, or one that was never issued or is revoked.
    """
    if not token:
        raise Unauthorized(
            "an API token is required (Authorization: Bearer <token>)",
            reason="missing_token",
        )
    if looks_like_stream_token(token):
        raise Unauthorized(
            "a stream token opens only the live stream (/api/v1/stream); use the API token here",
            reason="stream_token_not_allowed",
        )
    if looks_like_feed_token(token):
        raise Unauthorized(
            "a calendar feed token opens only its calendar feed; use the API token here",
            reason="feed_token_not_allowed",
        )
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None or row.role == FEED_ROLE:
        raise Unauthorized("the API token is unknown or revoked", reason="invalid_token")
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise Unauthorized("the session has expired; log in again", reason="expired_token")
    return _as_its_person(session, row)


def _as_its_person(session: Session, row: ApiToken) -> ApiToken:
    # A person's token is worth what the person is now: nothing once deactivated,
    # and a login session has the person's current role, not the one at login.
    if row.user_id is None:
        return row
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise Unauthorized("this account is disabled", reason="account_disabled")
    if row.expires_at is not None and row.role != user.role:
        session.expunge(row)  # a changed copy for this request; nothing is written
        row.role = user.role
    return row


def authenticate_id(session: Session, token_id: int) -> ApiToken:
    """Return the live token row ``token_id`` (the parent of a stream token).

    Raises:
        Unauthorized: the token was deleted, revoked or has expired since.
    """
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None or row.role == FEED_ROLE:
        raise Unauthorized(
            "the token this stream token was made from is revoked", reason="invalid_token"
        )
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise Unauthorized("the session has expired; log in again", reason="expired_token")
    return _as_its_person(session, row)


def live_ids(session: Session, token_ids: set[int], now: datetime) -> set[int]:
    """Return which of ``token_ids`` still open something: not revoked, unexpired, person active.

    One query for all open streams of a process (``backend.auth.streams``).
    """
    if not token_ids:
        return set()
    rows = session.execute(
        select(ApiToken.id)
        .outerjoin(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.id.in_(token_ids),
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
            or_(ApiToken.user_id.is_(None), User.active.is_(True)),
        )
    )
    return {int(token_id) for (token_id,) in rows}
