"""Talking to the OpenID provider: discovery, its signing keys, the code exchange, ID tokens.

Every failure becomes a domain error with our own reason and words; the provider's and
the JWT library's texts go to the log (as a kind, never with token contents), not to
the client. Keys rotate at the provider: a token signed with a key we do not know makes
us fetch the key set again, but at most once per ``jwks_refetch_s``, so a stream of
forged ``kid`` values cannot turn us into a load generator against the provider.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import jwt

from backend.auth.oidc_settings import OidcConfig
from backend.errors import DomainError, Unauthorized, Unavailable

log = logging.getLogger(__name__)

#: Asymmetric algorithms only: ``none`` and HMAC (keyed with the client secret) never.
ALGORITHMS = ("RS256", "PS256", "ES256", "RS384", "RS512", "ES384", "PS384", "PS512")
#: Clock difference tolerated between the provider and us.
LEEWAY_S = 30
#: How long a discovery document is trusted before it is read again.
DISCOVERY_TTL_S = 3600.0
HTTP_TIMEOUT_S = 10.0


class BadCallback(DomainError):
    """The provider's answer to the browser cannot be used (400)."""

    status_code = 400
    reason = "oidc_bad_callback"


def unreachable(what: str) -> Unavailable:
    """The error for a provider that does not answer usefully (503, retry later)."""
    return Unavailable(
        f"the identity provider cannot be reached ({what}); try again later",
        reason="oidc_provider_unavailable",
    )


@dataclass(frozen=True)
class Endpoints:
    """The provider's endpoints, from its discovery document."""

    authorization: str
    token: str
    jwks: str
    end_session: str | None


class KeySet:
    """The provider's public signing keys by ``kid``, fetched again on an unknown one."""

    def __init__(self, url: str, refetch_s: float, http: httpx.Client) -> None:
        self.url = url
        self.refetch_s = refetch_s
        self.http = http
        self.fetches = 0
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def key_for(self, kid: str | None) -> jwt.PyJWK:
        """Return the key ``kid`` names (the only one when the token names none)."""
        with self._lock:
            found = self._find(kid)
            due = self._fetched_at is None or time.monotonic() - self._fetched_at >= self.refetch_s
            if found is None and due:
                self._fetch()
                found = self._find(kid)
        if found is None:
            log.info("ID token refused: signing key %r not in the provider's key set", kid)
            raise Unauthorized(
                "the ID token is signed with a key the identity provider does not publish",
                reason="oidc_unknown_key",
            )
        return found

    def _find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        self.fetches += 1
        try:
            answer = self.http.get(self.url)
            answer.raise_for_status()
            data = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("JWKS fetch from %s failed: %s", self.url, type(exc).__name__)
            raise unreachable("its signing keys") from exc
        keys: dict[str, jwt.PyJWK] = {}
        for entry in data.get("keys", []) if isinstance(data, dict) else []:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            try:
                key = jwt.PyJWK(entry)
            except (jwt.PyJWTError, KeyError, TypeError, ValueError):
                continue  # a key type or curve we do not use
            keys[str(entry.get("kid", ""))] = key
        self._keys = keys


class Provider:
    """One OpenID provider as this backend uses it (one per app, made on first use)."""

    def __init__(self, config: OidcConfig, http: httpx.Client | None = None) -> None:
        self.config = config
        self.http = http or httpx.Client(timeout=HTTP_TIMEOUT_S)
        self._endpoints: Endpoints | None = None
        self._read_at = 0.0
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    def endpoints(self) -> Endpoints:
        """The provider's endpoints (discovery document, re-read after an hour)."""
        with self._lock:
            if self._endpoints is None or time.monotonic() - self._read_at > DISCOVERY_TTL_S:
                self._endpoints = self._discover()
                self._read_at = time.monotonic()
                if self._keys is None or self._keys.url != self._endpoints.jwks:
                    self._keys = KeySet(self._endpoints.jwks, self.config.jwks_refetch_s, self.http)
            return self._endpoints

    @property
    def keys(self) -> KeySet:
        """The provider's signing keys."""
        self.endpoints()
        assert self._keys is not None  # made with the endpoints
        return self._keys

    def _discover(self) -> Endpoints:
        url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            answer = self.http.get(url)
            answer.raise_for_status()
            doc = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("OpenID discovery at %s failed: %s", url, type(exc).__name__)
            raise unreachable("its discovery document") from exc
        fields = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
        if not isinstance(doc, dict) or not all(isinstance(doc.get(f), str) for f in fields):
            raise unreachable("an incomplete discovery document")
        if doc["issuer"] != self.config.issuer:
            # A document naming another issuer would let that issuer's tokens in.
            log.warning(
                "OpenID discovery names issuer %r, not %r", doc["issuer"], self.config.issuer
            )
            raise unreachable("its discovery document names another issuer")
        end = doc.get("end_session_endpoint")
        return Endpoints(
            doc["authorization_endpoint"],
            doc["token_endpoint"],
            doc["jwks_uri"],
            end if isinstance(end, str) else None,
        )

    def exchange(self, code: str, verifier: str) -> str:
        """Trade an authorization code (and its PKCE verifier) for the ID token."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.config.redirect_url,
            "code_verifier": verifier,
        }
        auth: httpx.Auth | None = None
        if self.config.client_secret is None:
            form["client_id"] = self.config.client_id  # a public client: PKCE alone
        else:  # client_secret_basic: both parts form-encoded first (RFC 6749, 2.3.1)
            user, secret = self.config.client_id, self.config.client_secret
            auth = httpx.BasicAuth(quote(user, safe=""), quote(secret, safe=""))
        try:
            url = self.endpoints().token
            answer = (
                self.http.post(url, data=form, auth=auth)
                if auth
                else self.http.post(url, data=form)
            )
        except httpx.HTTPError as exc:
            log.warning("OpenID token request failed: %s", type(exc).__name__)
            raise unreachable("its token endpoint") from exc
        try:
            data = answer.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            data = {}
        if answer.status_code != 200 or not isinstance(data.get("id_token"), str):
            error = data.get("error")
            log.info("OpenID token request refused: HTTP %s %r", answer.status_code, error)
            if answer.status_code >= 500:
                raise unreachable("its token endpoint")
            raise Unauthorized(
                "the identity provider did not accept the login code; log in again",
                reason="oidc_code_refused",
            )
        token: str = data["id_token"]
        return token

    def verify(self, token: str, nonce: str) -> dict[str, Any]:
        """Check an ID token (signature, issuer, audience, expiry, nonce); return its claims."""
        try:
            header = jwt.get_unverified_header(token)
            alg = header.get("alg")
            if alg not in ALGORITHMS:
                raise jwt.InvalidAlgorithmError(str(alg))
            key = self.keys.key_for(header.get("kid"))
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self.config.client_id,
                issuer=self.config.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud", "nonce"]},
                leeway=LEEWAY_S,
            )
        except (jwt.PyJWTError, TypeError, ValueError) as exc:
            # TypeError/ValueError: a key that does not fit the named algorithm.
            log.info("ID token refused: %s", type(exc).__name__)
            problem = _problem(exc) if isinstance(exc, jwt.PyJWTError) else "its key does not fit"
            raise Unauthorized(
                f"the ID token is not valid ({problem})", reason="oidc_bad_id_token"
            ) from exc
        if not hmac.compare_digest(str(claims["nonce"]), nonce):
            raise Unauthorized(
                "the ID token belongs to another login (nonce)", reason="oidc_bad_id_token"
            )
        azp = claims.get("azp")
        if azp is not None and azp != self.config.client_id:
            raise Unauthorized(
                "the ID token was issued to another client", reason="oidc_bad_id_token"
            )
        return claims


def _problem(exc: jwt.PyJWTError) -> str:
    for kind, text in (
        (jwt.ExpiredSignatureError, "it has expired"),
        (jwt.ImmatureSignatureError, "it is not valid yet"),
        (jwt.InvalidAudienceError, "it is for another client"),
        (jwt.InvalidIssuerError, "another issuer made it"),
        (jwt.MissingRequiredClaimError, "a required claim is missing"),
        (jwt.InvalidSignatureError, "its signature does not verify"),
        (jwt.InvalidAlgorithmError, "its algorithm is not accepted"),
        (jwt.DecodeError, "it cannot be read"),
    ):
        if isinstance(exc, kind):
            return text
    return "it was refused"
