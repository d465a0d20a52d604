"""The OpenID provider a code-flow login talks to, taken from the backend's settings."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from backend.config import Settings

#: The pages that may start a login, and where each lands afterwards.
PAGES = {"app": "/app/", "facility": "/facility/"}


@dataclass(frozen=True)
class OidcConfig:
    """What the authorization code flow needs; made only when all of it is set."""

    issuer: str
    client_id: str
    client_secret: str | None
    redirect_url: str
    scopes: str
    username_claim: str
    groups_claim: str | None
    role_groups: dict[str, str]
    jwks_refetch_s: float

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry ``Secure`` when the backend is reached over https (production)."""
        return urlsplit(self.redirect_url).scheme == "https"

    def page_url(self, page: str) -> str:
        """The absolute URL of a page (for the provider's post-logout redirect)."""
        parts = urlsplit(self.redirect_url)
        return f"{parts.scheme}://{parts.netloc}{PAGES[page]}"


def oidc_config(settings: Settings) -> OidcConfig | None:
    """Return the code-flow configuration, or None when single sign-on is not set up."""
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_redirect_url):
        return None
    secret = settings.oidc_client_secret
    return OidcConfig(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        redirect_url=settings.oidc_redirect_url,
        scopes=settings.oidc_scopes,
        username_claim=settings.oidc_username_claim,
        groups_claim=settings.oidc_groups_claim,
        role_groups=dict(settings.oidc_role_groups),
        jwks_refetch_s=settings.oidc_jwks_refetch_s,
    )
