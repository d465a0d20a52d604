"""Single sign-on against a real OpenID provider (``oidc-provider``), without a browser.

The browser flow is in tests/e2e/test_oidc_login.py; here the same HTTP steps are taken
with httpx so each refusal (state, PKCE verifier, audience, expiry, unknown keys) can be
checked exactly, and people are checked to be keyed by issuer and subject.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from backend.auth.oidc_provider import Provider
from backend.auth.oidc_settings import oidc_config
from backend.errors import Unauthorized
from tests.oidc.idp import CLIENT_ID, login_at_provider
from tests.oidc.sso_backend import LOCAL_PASSWORD, SsoBackend

pytestmark = [pytest.mark.integration]

PROBLEM = "application/problem+json"


def start(sso: SsoBackend, page: str = "app") -> str:
    return f"{sso.url}/api/v1/auth/oidc/login?page={page}"


def sign_in(sso: SsoBackend, client: httpx.Client, person: str) -> dict:
    """Log ``person`` in through the provider; return the session the page is handed."""
    callback = login_at_provider(client, start(sso), person)
    landed = client.get(callback)
    assert landed.status_code == 303 and landed.headers["location"] == "/app/#oidc"
    answer = client.post(f"{sso.url}/api/v1/auth/oidc/session")
    assert answer.status_code == 200, answer.text
    session: dict = answer.json()
    return session


def me(sso: SsoBackend, token: str) -> httpx.Response:
    return httpx.get(
        f"{sso.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_config_says_sign_on_is_offered(sso):
    answer = httpx.get(f"{sso.url}/api/v1/auth/oidc/config", timeout=30)
    assert answer.json() == {"enabled": True, "login_url": "/api/v1/auth/oidc/login"}


def test_people_are_keyed_by_issuer_and_subject_never_by_a_claimed_name(sso):
    with httpx.Client(timeout=15) as client:
        anna = sign_in(sso, client, "anna")
    # The provider proposes "anna", but a local account has that name: hers stays hers.
    assert anna["user"]["username"] != "anna"
    assert anna["user"]["display_name"] == "Anna de Vries"
    local = httpx.post(
        f"{sso.url}/api/v1/auth/login",
        json={"username": "anna", "password": LOCAL_PASSWORD},
        timeout=30,
    )
    assert local.status_code == 200 and local.json()["user"]["id"] != anna["user"]["id"]
    with httpx.Client(timeout=15) as client:
        again = sign_in(sso, client, "anna")
    assert again["user"]["id"] == anna["user"]["id"]  # the same subject, the same person
    # piet's provider calls him "panel:r-1.01": he gets neither a panel's name nor its role;
    # his group makes him facility staff.
    with httpx.Client(timeout=15) as client:
        piet = sign_in(sso, client, "piet")
    assert ":" not in piet["user"]["username"] and piet["user"]["role"] == "facility"
    assert me(sso, piet["token"]).json()["username"] == piet["user"]["username"]


def test_a_callback_with_another_state_is_refused(sso):
    with httpx.Client(timeout=15) as client:
        callback = login_at_provider(client, start(sso), "anna")
        parts = urlsplit(callback)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        forged = client.get(callback.split("?")[0] + "?" + urlencode({**query, "state": "x" * 32}))
        assert forged.status_code == 400
        assert forged.headers["content-type"].startswith(PROBLEM)
        assert forged.json()["reason"] == "oidc_bad_state"
    # Another browser (no flow cookie of this login) cannot finish it: login CSRF.
    stranger = httpx.get(callback, timeout=30)
    assert stranger.status_code == 400 and stranger.json()["reason"] == "oidc_no_login_started"


def test_a_code_with_another_pkce_verifier_is_refused_by_the_provider(sso):
    config = oidc_config(sso.settings)
    assert config is not None
    with httpx.Client(timeout=15) as client:
        callback = login_at_provider(client, start(sso), "anna")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    with pytest.raises(Unauthorized) as refused:
        Provider(config).exchange(code, "a-verifier-of-another-login-" + "v" * 30)
    assert refused.value.reason == "oidc_code_refused"
    assert "invalid_grant" not in refused.value.message  # our words, not the provider's


def test_id_tokens_for_another_client_expired_or_unsigned_are_refused(sso):
    config = oidc_config(sso.settings)
    assert config is not None
    provider = Provider(config)
    assert provider.verify(sso.idp.mint(nonce="n1"), "n1")["sub"] == "anna"  # the control
    cases = {
        "it is for another client": sso.idp.mint(nonce="n1", aud="another-app"),
        "it has expired": sso.idp.mint(
            nonce="n1", iat=int(time.time()) - 7200, exp=int(time.time()) - 3600
        ),
        "another issuer made it": sso.idp.mint(nonce="n1", iss="http://127.0.0.1:1"),
        "nonce": sso.idp.mint(nonce="another-login"),
        "its algorithm is not accepted": jwt.encode(
            {"iss": sso.idp.issuer, "aud": CLIENT_ID, "sub": "anna", "nonce": "n1"},
            config.client_secret or "k" * 32,
            algorithm="HS256",
            headers={"kid": sso.idp.kid},
        ),
    }
    for why, token in cases.items():
        with pytest.raises(Unauthorized) as refused:
            provider.verify(token, "n1")
        assert refused.value.reason == "oidc_bad_id_token"
        assert why in refused.value.message
    # An EC signature under the provider's RSA key id, and no token at all: refused, no 500.
    ec_key = ec.generate_private_key(ec.SECP256R1())
    claims = {"iss": sso.idp.issuer, "aud": CLIENT_ID, "sub": "anna", "nonce": "n1"}
    mismatched = jwt.encode(claims, ec_key, algorithm="ES256", headers={"kid": sso.idp.kid})
    for token in (mismatched, "not-a-token", ""):
        with pytest.raises(Unauthorized) as refused:
            provider.verify(token, "n1")
        assert refused.value.reason == "oidc_bad_id_token"


def test_unknown_keys_refetch_the_key_set_at_most_once_per_interval(sso):
    config = oidc_config(sso.settings)
    assert config is not None
    provider = Provider(config)
    provider.keys.refetch_s = 3600.0  # nothing but an unknown kid may cause a fetch
    provider.verify(sso.idp.mint(nonce="n"), "n")
    assert provider.keys.fetches == 1
    forged = jwt.encode(
        {"iss": sso.idp.issuer, "aud": CLIENT_ID, "sub": "x", "nonce": "n", "exp": 2**31},
        sso.idp.key,
        algorithm="RS256",
        headers={"kid": "forged"},
    )
    for _ in range(5):
        with pytest.raises(Unauthorized) as refused:
            provider.verify(forged, "n")
        assert refused.value.reason == "oidc_unknown_key"
    assert provider.keys.fetches == 1  # within the interval: no fetch per forged kid


def test_a_refusal_at_the_provider_reaches_the_page_as_our_problem(sso):
    with httpx.Client(timeout=15) as client:
        first = client.get(start(sso))
        state = parse_qs(urlsplit(first.headers["location"]).query)["state"][0]
        query = urlencode({"state": state, "error": "access_denied", "error_description": "<b>"})
        back = client.get(f"{sso.url}/api/v1/auth/oidc/callback?{query}")
        assert back.status_code == 303 and back.headers["location"] == "/app/#oidc"
        answer = client.post(f"{sso.url}/api/v1/auth/oidc/session")
        assert answer.status_code == 401
        assert answer.json()["reason"] == "oidc_login_refused"
        assert "<b>" not in answer.text
        # The result is handed over once.
        again = client.post(f"{sso.url}/api/v1/auth/oidc/session")
        assert again.status_code == 401 and again.json()["reason"] == "oidc_no_login"


def test_logout_ends_the_session_and_offers_the_providers_logout(sso):
    with httpx.Client(timeout=15) as client:
        anna = sign_in(sso, client, "anna")
    auth = {"Authorization": f"Bearer {anna['token']}"}
    assert me(sso, anna["token"]).status_code == 200
    out = httpx.post(f"{sso.url}/api/v1/auth/logout?page=app", headers=auth, timeout=30)
    assert out.status_code == 200
    end = out.json()["end_session_url"]
    assert end.startswith(f"{sso.idp.issuer}/session/end?")
    assert parse_qs(urlsplit(end).query)["post_logout_redirect_uri"] == [f"{sso.url}/app/"]
    gone = me(sso, anna["token"])
    assert gone.status_code == 401 and gone.json()["reason"] == "invalid_token"
