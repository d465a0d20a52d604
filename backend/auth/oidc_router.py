"""Single sign-on with the municipality's OpenID provider (authorization code + PKCE).

The backend runs the flow, so the client secret and the provider's tokens never reach
a browser:

1. ``GET /auth/oidc/login?page=app`` makes a state, a nonce and a PKCE verifier, keeps
   them in a signed cookie and redirects to the provider (a plain navigation, which the
   pages' CSP allows: ``form-action`` does not apply).
2. ``GET /auth/oidc/callback`` checks the state against the cookie, trades the code and
   the verifier for an ID token, verifies it (``oidc_provider``), finds the person by
   issuer and subject (``oidc_users``), issues our own session token and redirects to
   the page with ``#oidc``; the token waits in a cookie only step 3 receives.
3. ``POST /auth/oidc/session`` (the page's script) returns that session token, or the
   problem detail of why the login failed, once.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from backend.auth import oidc_cookies as cookies
from backend.auth import oidc_users
from backend.auth import service as auth_service
from backend.auth.oidc_provider import BadCallback, Provider
from backend.auth.oidc_settings import PAGES, OidcConfig, oidc_config
from backend.config import Settings
from backend.dependencies import RuntimeDep, SessionDep
from backend.errors import DomainError, Unauthorized, Unavailable
from backend.openapi import PROBLEM_CONTENT
from backend.people import service as people
from backend.people.schemas import Session as SessionOut
from backend.people.schemas import UserPublic
from backend.problem import problem

router = APIRouter(prefix="/auth/oidc", tags=["auth"])

Page = Annotated[Literal["app", "facility"], Query(description="the page to return to")]
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "not an answer to a login of this browser", "content": PROBLEM_CONTENT},
    503: {
        "description": "single sign-on is off, or the provider is unreachable",
        "content": PROBLEM_CONTENT,
    },
}


class OidcPublicConfig(BaseModel):
    """What a login page needs to know to offer single sign-on."""

    enabled: bool
    login_url: str | None


def _config(settings: Settings) -> OidcConfig:
    config = oidc_config(settings)
    if config is None:
        raise Unavailable("single sign-on is not configured", reason="oidc_not_configured")
    return config


def provider_of(request: Request, config: OidcConfig) -> Provider:
    """The app's provider client (its discovery document and keys are cached in it)."""
    current: Provider | None = getattr(request.app.state, "oidc_provider", None)
    if current is None or current.config != config:
        current = Provider(config)
        request.app.state.oidc_provider = current
    return current


def _sealer(request: Request, settings: Settings) -> cookies.Sealer:
    sealer: cookies.Sealer | None = getattr(request.app.state, "oidc_sealer", None)
    if sealer is None:
        key = settings.oidc_state_key
        sealer = cookies.Sealer(key.get_secret_value().encode() if key else None)
        request.app.state.oidc_sealer = sealer
    return sealer


@router.get("/config", response_model=OidcPublicConfig)
def public_config(runtime: RuntimeDep) -> OidcPublicConfig:
    """Say whether the pages offer "log in with your municipality account"."""
    enabled = oidc_config(runtime.settings) is not None
    return OidcPublicConfig(
        enabled=enabled, login_url="/api/v1/auth/oidc/login" if enabled else None
    )


@router.get("/login", status_code=303, response_class=RedirectResponse, responses=ERRORS)
def login(request: Request, runtime: RuntimeDep, page: Page = "app") -> RedirectResponse:
    """Start a login: redirect to the provider with a fresh state, nonce and PKCE challenge."""
    config = _config(runtime.settings)
    endpoints = provider_of(request, config).endpoints()
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier, challenge = cookies.pkce_pair()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": config.client_id,
            "redirect_uri": config.redirect_url,
            "scope": config.scopes,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    joiner = "&" if "?" in endpoints.authorization else "?"
    answer = RedirectResponse(endpoints.authorization + joiner + query, status_code=303)
    flow = {"state": state, "nonce": nonce, "verifier": verifier, "page": page}
    answer.set_cookie(
        cookies.FLOW_COOKIE,
        _sealer(request, runtime.settings).seal(flow, cookies.FLOW_TTL_S),
        max_age=cookies.FLOW_TTL_S,
        path=cookies.FLOW_PATH,
        secure=config.secure_cookies,
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back to us
    )
    return answer


@router.get("/callback", status_code=303, response_class=RedirectResponse, responses=ERRORS)
def callback(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    state: Annotated[str | None, Query(max_length=512)] = None,
    code: Annotated[str | None, Query(max_length=4096)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
    iss: Annotated[str | None, Query(max_length=2048)] = None,
) -> RedirectResponse:
    """Finish a login the provider sent back; land on the page that started it.

    A callback without this browser's flow cookie, or with another state, is refused
    here (400): it is not a login this browser started (login CSRF). Any later failure
    is handed to the page, which shows it from ``POST /auth/oidc/session``.
    """
    config = _config(runtime.settings)
    sealer = _sealer(request, runtime.settings)
    flow = sealer.open(request.cookies.get(cookies.FLOW_COOKIE))
    if flow is None:
        raise BadCallback(
            "no login of this browser is waiting for an answer (or it took over 10 minutes)",
            reason="oidc_no_login_started",
        )
    if state is None or not hmac.compare_digest(state, str(flow["state"])):
        raise BadCallback("the answer belongs to another login (state)", reason="oidc_bad_state")
    try:
        token = _finish(request, session, runtime, config, flow, code, error, iss)
        result: dict[str, Any] = {"token": token}
    except DomainError as exc:
        result = {"status": exc.status_code, "reason": exc.reason, "detail": exc.message}
    answer = RedirectResponse(PAGES[str(flow["page"])] + "#oidc", status_code=303)
    answer.delete_cookie(cookies.FLOW_COOKIE, path=cookies.FLOW_PATH)  # one use only
    answer.set_cookie(
        cookies.RESULT_COOKIE,
        sealer.seal(result, cookies.RESULT_TTL_S),
        max_age=cookies.RESULT_TTL_S,
        path=cookies.RESULT_PATH,
        secure=config.secure_cookies,
        httponly=True,
        samesite="strict",  # read by the page's own request only
    )
    return answer


def _finish(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    config: OidcConfig,
    flow: dict[str, Any],
    code: str | None,
    error: str | None,
    iss: str | None,
) -> str:
    if error is not None:
        raise Unauthorized(
            "the identity provider did not log you in (cancelled or refused)",
            reason="oidc_login_refused",
        )
    if iss is not None and iss != config.issuer:  # RFC 9207: an answer from another provider
        raise Unauthorized(
            "the answer came from another identity provider", reason="oidc_bad_issuer"
        )
    if not code:
        raise BadCallback("the identity provider sent no login code", reason="oidc_no_code")
    provider = provider_of(request, config)
    claims = provider.verify(provider.exchange(code, str(flow["verifier"])), str(flow["nonce"]))
    user = oidc_users.sign_in(
        session,
        claims,
        username_claim=config.username_claim,
        groups_claim=config.groups_claim,
        role_groups=config.role_groups,
    )
    token, _expires = people.issue_session(session, user, runtime.settings.session_hours)
    return token


@router.post("/session", response_model=SessionOut, responses=ERRORS)
def handed_session(
    request: Request, response: Response, session: SessionDep, runtime: RuntimeDep
) -> Any:
    """Hand the page the session token of the login that just came back, once.

    A failed login is answered here as the problem detail of why it failed, once too.
    """
    _config(runtime.settings)
    result = _sealer(request, runtime.settings).open(request.cookies.get(cookies.RESULT_COOKIE))
    if result is None:
        raise Unauthorized("no single sign-on login has just finished here", reason="oidc_no_login")
    if "token" not in result:
        failed = problem(int(result["status"]), str(result["detail"]), str(result["reason"]))
        failed.delete_cookie(cookies.RESULT_COOKIE, path=cookies.RESULT_PATH)
        return failed
    response.delete_cookie(cookies.RESULT_COOKIE, path=cookies.RESULT_PATH)
    row = auth_service.authenticate(session, str(result["token"]))
    user = people.get_user(session, row.user_id) if row.user_id is not None else None
    if user is None or row.expires_at is None:
        raise Unauthorized("the login session is gone", reason="oidc_no_login")
    return SessionOut(
        token=str(result["token"]),
        expires_at=row.expires_at,
        user=UserPublic.model_validate(user),
    )
