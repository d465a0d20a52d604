"""Team membership from the identity provider's groups claim, followed at every login."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.teams import service
from backend.teams.settings import team_settings


def follow_claims(session: Session, user_id: int, claims: dict[str, Any]) -> None:
    """Match the person's group-made team memberships to the ID token's groups claim.

    A token without the claim leaves memberships alone (a provider that sends groups
    only on some flows must not empty every team); a claim with no team groups in it
    ends the group-made memberships. Admin-made memberships are never touched.
    """
    settings = team_settings()
    raw = claims.get(settings.oidc_team_claim)
    if raw is None:
        return
    groups = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    listed = [g for g in groups if isinstance(g, str)][:500]
    service.follow_groups(session, user_id, listed, settings.oidc_team_prefix)
    session.commit()
