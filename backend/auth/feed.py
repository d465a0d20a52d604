"""Calendar feed tokens: a subscribe URL that opens one person's ``.ics`` feed and nothing else.

A calendar program polls a subscribed URL for months and cannot send a header,
so the secret has to be in the URL. A login token there would leak everything
the person may do; a feed token only reads that person's own bookings.

Design, the simplest honest one: a feed token is a row in ``api_token`` (so no
new table or migration) with the role ``calendar_feed``, which no API dependency
accepts, and a ``cf1.`` prefix, which ``authenticate`` refuses with a clear
reason. Only its sha256 is stored. Making a new one revokes the old one; the
person can also revoke it outright. A person who is deactivated loses the feed.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.auth.models import ApiToken
from backend.errors import NotFound
from backend.people import audit
from backend.people.models import User

#: The role of feed tokens; it is in no role list of the API, so it opens no endpoint.
FEED_ROLE = "calendar_feed"
#: Every feed token starts with this, so other endpoints can say what they were given.
PREFIX = "cf1."


def looks_like_feed_token(token: str) -> bool:
    """Return True for a string in the feed-token format (checked or not)."""
    return token.startswith(PREFIX)


def _hash(token: str) -> str:
    # Imported here: backend.auth.service imports this module for its prefix check.
    from backend.auth.service import hash_token

    return hash_token(token)


def _revoke_all(session: Session, user_id: int, now: datetime) -> int:
    result = session.execute(
        update(ApiToken)
        .where(
            ApiToken.user_id == user_id,
            ApiToken.role == FEED_ROLE,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def issue(session: Session, user_id: int, now: datetime) -> str:
    """Revoke the user's feed token, if any, and return a new one (shown only this once)."""
    token = PREFIX + secrets.token_urlsafe(32)
    revoked = _revoke_all(session, user_id, now)
    session.add(
        ApiToken(
            name="calendar feed",
            role=FEED_ROLE,
            token_hash=_hash(token),
            user_id=user_id,
            created_at=now,
        )
    )
    audit.record(
        session,
        f"user:{user_id}",
        "calendar_feed.issue",
        "user",
        user_id,
        actor_user_id=user_id,
        at=now,
        revoked=revoked,
    )
    session.commit()
    return token


def revoke(session: Session, user_id: int, now: datetime) -> int:
    """Revoke the user's feed token; return how many were live (0 or 1)."""
    revoked = _revoke_all(session, user_id, now)
    audit.record(
        session,
        f"user:{user_id}",
        "calendar_feed.revoke",
        "user",
        user_id,
        actor_user_id=user_id,
        at=now,
        revoked=revoked,
    )
    session.commit()
    return revoked


def owner(session: Session, token: str) -> int:
    """Return the user id a live feed token belongs to.

    Raises:
        NotFound: not a feed token, unknown, revoked, or its owner is inactive. One
            answer for all, so the URL reveals nothing about why.
    """
    gone = NotFound("this calendar feed does not exist or was revoked", reason="feed_not_found")
    if not looks_like_feed_token(token):
        raise gone
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(token)))
    if row is None or row.role != FEED_ROLE or row.revoked_at is not None or row.user_id is None:
        raise gone
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise gone
    return row.user_id
