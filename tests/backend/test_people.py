"""Login with local accounts and OpenID Connect ID tokens, the caller's own data, roles."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from backend.main import create_app
from tests.backend.conftest import bearer
from tests.services import free_port

ISSUER = "https://login.gemeente.example"
AUDIENCE = "werkplek"


class Idp:
    """A local identity provider: an RSA key pair and its JWKS served over HTTP."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        body = json.dumps({"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]})
        self.requests = 0
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                idp.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, key=None, **claims) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "emp-123", "iat": now, "exp": now + 300}
        body.update(claims)
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture
def idp() -> Iterator[Idp]:
    server = Idp()
    yield server
    server.server.shutdown()


@pytest.fixture
def oidc_api(seeded, idp) -> Iterator[TestClient]:
    settings = seeded.settings(
        oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_url=idp.url, session_hours=1
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_oidc_id_token_login(oidc_api, idp):
    good = idp.token(name="Anna de Vries", preferred_username="avries", email="a@gemeente.example")
    response = oidc_api.post("/api/v1/auth/oidc", json={"id_token": good})
    assert response.status_code == 200, response.text
    session = response.json()
    assert session["user"]["role"] == "employee"
    assert session["user"]["display_name"] == "Anna de Vries"
    me = oidc_api.get("/api/v1/me", headers=bearer(session["token"])).json()
    assert me["username"] == "avries" and idp.requests >= 1
    # The same person logging in again is the same user.
    again = oidc_api.post("/api/v1/auth/oidc", json={"id_token": idp.token()}).json()
    assert again["user"]["id"] == me["id"]
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad_tokens = {
        "wrong audience": idp.token(aud="other-app"),
        "wrong issuer": idp.token(iss="https://evil.example"),
        "expired": idp.token(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
        "wrong key": idp.token(key=stranger),
        "garbage": "not.a.jwt-at-all",
    }
    for what, token in bad_tokens.items():
        refused = oidc_api.post("/api/v1/auth/oidc", json={"id_token": token})
        assert refused.status_code == 401, what
        assert refused.json()["reason"] == "bad_id_token", what


def test_local_login_roles_and_own_data(seeded, api):
    admin = bearer(seeded.admin_token)
    created = api.post(
        "/api/v1/users",
        json={"username": "piet", "display_name": "Piet", "password": "correct horse battery"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert "password" not in created.text
    stored = seeded.query("SELECT password_hash FROM app_user WHERE username = 'piet'")[0][0]
    assert stored.startswith("$argon2")
    dup = api.post("/api/v1/users", json={"username": "piet", "display_name": "P"}, headers=admin)
    assert dup.status_code == 409
    wrong = api.post("/api/v1/auth/login", json={"username": "piet", "password": "nope"})
    assert wrong.status_code == 401 and wrong.json()["reason"] == "bad_credentials"
    nobody = api.post("/api/v1/auth/login", json={"username": "klaas", "password": "x"})
    assert nobody.status_code == 401
    login = api.post(
        "/api/v1/auth/login", json={"username": "piet", "password": "correct horse battery"}
    )
    assert login.status_code == 200
    piet = bearer(login.json()["token"])
    # An employee cannot create users or change site rules.
    assert api.post("/api/v1/users", json={"username": "x", "display_name": "x"},
                    headers=piet).status_code == 403  # fmt: skip
    assert api.put("/api/v1/sites/hq/policy", json={}, headers=piet).status_code == 403
    # Opt out of being shown as present, and export everything stored about me.
    assert (
        api.patch("/api/v1/me", json={"show_presence": False}, headers=piet).json()["show_presence"]
        is False
    )
    export = api.get("/api/v1/me/export", headers=piet).json()
    assert export["app_user"]["username"] == "piet"
    assert {a["action"] for a in export["audit_log"]} >= {"login", "user.preferences"}
    # A signage token has no person behind it.
    assert api.get("/api/v1/me", headers=bearer(seeded.signage_token)).status_code == 403


def test_expired_session_is_refused(seeded, api, people):
    ann = people("employee", "ann")
    import sqlalchemy as sa

    from backend.database import make_engine

    engine = make_engine(seeded.url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE api_token SET expires_at = created_at WHERE user_id = :u"),
                     {"u": ann.id})  # fmt: skip
    engine.dispose()
    response = api.get("/api/v1/me", headers=bearer(ann.token))
    assert response.status_code == 401 and response.json()["reason"] == "expired_token"


def test_password_guessing_is_slowed_down(seeded):
    # More in test_login_throttle.py: other sources, parallel guesses, restarts.
    # A first wait of 60 s, so a slow machine cannot outwait it between two tries.
    name = f"greet-{time.monotonic_ns()}"
    with TestClient(create_app(seeded.settings(login_backoff_s=60.0))) as api:
        api.post(
            "/api/v1/users",
            json={"username": name, "display_name": "Greet", "password": "a long enough secret"},
            headers=bearer(seeded.admin_token),
        ).raise_for_status()
        codes = [
            api.post(
                "/api/v1/auth/login", json={"username": name, "password": f"guess-{i}"}
            ).status_code
            for i in range(6)
        ]
        assert codes == [401] * 5 + [429]  # five free tries, then a wait that doubles
        slowed = api.post(
            "/api/v1/auth/login", json={"username": name, "password": "a long enough secret"}
        )
    assert slowed.status_code == 429 and 55 <= int(slowed.headers["retry-after"]) <= 60
