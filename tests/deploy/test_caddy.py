"""deploy/Caddyfile in the real Caddy: HTTPS in front of a real backend, nothing weaker.

The file runs as committed; its ``{$VAR:default}`` placeholders (port, certificate
folder, upstream) get this test's values instead of the compose ones. The web
certificate is issued by ``werkplek pki`` (the ``pki`` fixture).
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.config import Settings
from backend.main import create_app
from tests.helpers import serve_app
from tests.services import free_port, port_open, require_binary, wait_until

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def proxied(pki, tmp_path: Path) -> Iterator[str]:
    """Caddy with deploy/Caddyfile in front of a backend; yields its https:// base URL."""
    tls_dir = tmp_path / "tls"
    tls_dir.mkdir()
    shutil.copyfile(pki.dir / "broker.crt", tls_dir / "web.crt")  # names localhost
    shutil.copyfile(pki.dir / "broker.key", tls_dir / "web.key")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/werkplek.sqlite3",
        mqtt_enabled=False,
        http_port=free_port(),
    )
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),  # Caddy's own state goes here, not into the real home
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PUBLIC_HOST": "localhost",
        "HTTPS_PORT": str(port),
        "ADMIN_PORT": str(free_port()),
        "TLS_DIR": str(tls_dir),
        "BACKEND_UPSTREAM": f"127.0.0.1:{settings.http_port}",
        "GRAFANA_UPSTREAM": f"127.0.0.1:{free_port()}",
    }
    caddy = require_binary("caddy", "/usr/bin/caddy")
    log = (tmp_path / "caddy.log").open("wb")
    proc = subprocess.Popen(
        [caddy, "run", "--config", str(REPO / "deploy" / "Caddyfile"), "--adapter", "caddyfile"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with serve_app(create_app(settings), settings.http_port):
            wait_until(lambda: port_open("127.0.0.1", port), 30, what="caddy listening")
            yield f"https://localhost:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


def _trusting(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


def test_backend_is_served_over_https_with_the_municipal_ca(proxied, pki):
    response = httpx.get(f"{proxied}/healthz", verify=_trusting(pki.ca_pem), timeout=15)
    assert response.status_code == 200, response.text
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert "server" not in response.headers  # no version banner


def test_clients_that_do_not_trust_the_ca_or_speak_old_tls_are_refused(proxied, pki):
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{proxied}/healthz", verify=_trusting(pki.other_dir / "ca.crt"), timeout=15)
    old = _trusting(pki.ca_pem)
    old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    old.maximum_version = ssl.TLSVersion.TLSv1_1  # deprecated on purpose: it must be refused
    old.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this side offer TLS 1.1 at all
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{proxied}/healthz", verify=old, timeout=15)
    # Plain HTTP on the HTTPS port gets no page.
    plain = httpx.get(proxied.replace("https://", "http://") + "/healthz", timeout=15)
    assert plain.status_code == 400
