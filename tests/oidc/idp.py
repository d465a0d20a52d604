"""A real OpenID provider (``oidc-provider`` on Node) run privately for the sign-on tests.

``tests/oidc/provider.mjs`` is started with a config written here: the issuer on a free
port, one confidential client (the backend), and signing keys made here, so a test can
rotate them (restart with a new key, the old one gone) and sign tokens with the
provider's own key. ``make test`` installs the package (``npm ci --prefix tests/oidc``).
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.services import ServiceError, free_port, require_binary, wait_until

HERE = Path(__file__).resolve().parent
CLIENT_ID = "werkplek"


class OpenIdProvider:
    """One provider process; ``rotate`` restarts it on the same issuer with a new key."""

    def __init__(self, workdir: Path, backend_url: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.backend_url = backend_url
        self.client_secret = secrets.token_urlsafe(32)
        self.cookie_key = secrets.token_urlsafe(32)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "key-1"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def redirect_url(self) -> str:
        """The backend's callback as this provider has it registered."""
        return f"{self.backend_url}/api/v1/auth/oidc/callback"

    def private_jwk(self) -> dict[str, Any]:
        """The current signing key as a private JWK."""
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.key))
        jwk.update(kid=self.kid, use="sig", alg="RS256")
        return jwk

    def start(self) -> None:
        """Write the config and start the provider; return once discovery answers."""
        node = require_binary("node")
        if not (HERE / "node_modules" / "oidc-provider").is_dir():
            raise ServiceError("oidc-provider is not installed: run npm ci --prefix tests/oidc")
        config = {
            "issuer": self.issuer,
            "port": self.port,
            "keys": [self.private_jwk()],
            "cookieKeys": [self.cookie_key],
            "clients": [
                {
                    "client_id": CLIENT_ID,
                    "client_secret": self.client_secret,
                    "redirect_uris": [self.redirect_url],
                    "post_logout_redirect_uris": [
                        f"{self.backend_url}/app/",
                        f"{self.backend_url}/facility/",
                    ],
                }
            ],
        }
        path = self.workdir / "provider.json"
        path.write_text(json.dumps(config))
        path.chmod(0o600)
        log = (self.workdir / "provider.log").open("ab")
        self.proc = subprocess.Popen(
            [node, str(HERE / "provider.mjs"), str(path)], stdout=log, stderr=log, cwd=HERE
        )
        wait_until(self._answers, 30, interval=0.1, what="the OpenID provider answers")

    def _answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            log = (self.workdir / "provider.log").read_text(errors="replace")[-2000:]
            raise ServiceError(f"the OpenID provider stopped: {log}")
        try:
            url = f"{self.issuer}/.well-known/openid-configuration"
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        """Stop the provider process."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.proc = None

    def rotate(self) -> None:
        """Sign with a new key from now on; the old one is no longer published."""
        self.stop()
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = f"key-{int(time.time() * 1000)}"
        self.start()

    def mint(self, **claims: Any) -> str:
        """An ID token signed with the provider's current key (for refusal tests)."""
        now = int(time.time())
        body = {"iss": self.issuer, "aud": CLIENT_ID, "sub": "anna", "iat": now, "exp": now + 300}
        body.update(claims)
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": self.kid})


def login_at_provider(client: httpx.Client, start_url: str, person: str) -> str:
    """Follow a login from ``start_url`` through the provider's login form (no browser).

    Returns the callback URL the provider sends the browser back to (not yet opened),
    so a test can open it, change it, or open it with another browser's cookies.
    """
    answer = client.get(start_url)
    for _ in range(10):  # backend login -> provider /auth -> its login page
        if answer.status_code not in (302, 303):
            break
        answer = client.get(urljoin(str(answer.url), answer.headers["location"]))
    form = re.search(r'<form[^>]*action="([^"]+)"', answer.text)
    assert form is not None, f"no login form at {answer.url}"
    target = urljoin(str(answer.url), form.group(1).replace("&amp;", "&"))
    answer = client.post(target, data={"prompt": "login", "login": person, "password": "x"})
    for _ in range(10):  # the provider's resume -> our callback
        location = urljoin(str(answer.url), answer.headers.get("location", ""))
        if "/api/v1/auth/oidc/callback" in location:
            return location
        assert answer.status_code in (302, 303), f"the provider answered {answer.status_code}"
        answer = client.get(location)
    raise AssertionError("the provider never sent the browser back")
