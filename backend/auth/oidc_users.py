"""Who an ID token's claims are: people keyed by issuer and subject, never by a name.

A provider's ``preferred_username`` (or any claim) is only a proposal for the display
user name: it cannot take over a door panel (``panel:<room>``), a screen, a service or
a local account, because the account is looked up by ``issuer|sub`` alone, and a new
account gets the proposed name only when it is free and of the plain kind people have
(no colon, which every reserved machine name carries). Otherwise a derived name is used.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import Unauthorized
from backend.people import service as people
from backend.people.models import User
from backend.teams.oidc import follow_claims

#: A plain person's user name: no colon (``panel:``, ``signage:`` ... are machines').
PLAIN_NAME = re.compile(r"^[\w.@+-]{1,80}$")
#: The roles a provider's groups may grant; never a machine role (panel, signage, ...).
PERSON_ROLES = ("employee", "facility", "admin")


def subject_of(claims: dict[str, Any]) -> str:
    """The stable key of a person at a provider: ``issuer|sub``."""
    return f"{claims['iss']}|{claims['sub']}"


def username_for(session: Session, claims: dict[str, Any], claim: str) -> str:
    """A free user name for a new person: the proposed one when safe, else a derived one."""
    proposed = claims.get(claim)
    derived = "oidc-" + hashlib.sha256(subject_of(claims).encode()).hexdigest()[:12]
    if isinstance(proposed, str) and PLAIN_NAME.match(proposed):
        taken = session.scalar(select(User.id).where(User.username == proposed))
        if taken is None:
            return proposed
    return derived


def role_for(claims: dict[str, Any], groups_claim: str, role_groups: dict[str, str]) -> str:
    """The highest person role the person's groups map to (employee when none do)."""
    groups = claims.get(groups_claim)
    listed = [groups] if isinstance(groups, str) else groups if isinstance(groups, list) else []
    granted = {role_groups[g] for g in listed if isinstance(g, str) and g in role_groups}
    return max(granted | {"employee"}, key=PERSON_ROLES.index)


def sign_in(
    session: Session,
    claims: dict[str, Any],
    *,
    username_claim: str,
    groups_claim: str | None,
    role_groups: dict[str, str],
) -> User:
    """Find or create the person of verified claims; follow their groups when configured.

    Raises:
        Unauthorized: the account exists but is deactivated.
    """
    if len(subject_of(claims)) > 400:
        raise Unauthorized("the ID token's subject is too long", reason="oidc_bad_id_token")
    user = session.scalar(select(User).where(User.subject == subject_of(claims)))
    if user is None:
        name = str(claims.get("name") or claims.get(username_claim) or claims["sub"])
        email = claims.get("email")
        user = people.create_user(
            session,
            username=username_for(session, claims, username_claim),
            display_name=name[:200],
            email=email[:200] if isinstance(email, str) else None,
            subject=subject_of(claims),
            actor="oidc",
        )
    if not user.active:
        raise Unauthorized("this account is disabled", reason="account_disabled")
    if groups_claim and user.role in PERSON_ROLES:
        role = role_for(claims, groups_claim, role_groups)
        if role != user.role:
            user = people.change_user(session, user.id, role=role, active=None, actor="oidc")
    follow_claims(session, user.id, claims)  # teams from the groups claim
    return user
