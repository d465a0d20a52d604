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
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest

from backend.config import Settings
from backend.main import create_app
from tests.e2e.test_app import backend_settings, seed
from tests.e2e.test_app_features import publish_states
from tests.helpers import serve_app
from tests.services import free_port, port_open, require_binary, wait_until

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
#: Generous for a shared 2-core machine: a state change through broker, backend and proxy.
EVENT_BOUND_S = 5.0


@contextmanager
def caddy_in_front_of(settings: Settings, pki, tmp_path: Path) -> Iterator[str]:
    """The backend of ``settings`` behind Caddy with deploy/Caddyfile; yields the https:// URL."""
    tls_dir = tmp_path / "tls"
    tls_dir.mkdir()
    shutil.copyfile(pki.dir / "broker.crt", tls_dir / "web.crt")  # names localhost
    shutil.copyfile(pki.dir / "broker.key", tls_dir / "web.key")
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
    with (tmp_path / "caddy.log").open("wb") as log:
        proc = subprocess.Popen(
            [caddy, "run", "--config", str(REPO / "deploy/Caddyfile"), "--adapter", "caddyfile"],
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


@pytest.fixture
def proxied(pki, tmp_path: Path) -> Iterator[str]:
    """Caddy in front of a backend without a broker."""
    with caddy_in_front_of(backend_settings(tmp_path), pki, tmp_path) as url:
        yield url


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


def test_the_live_stream_passes_the_proxy_at_once(
    mosquitto_factory, pki, tmp_path, record_property
):
    """SSE through Caddy: a state change reaches the screen's stream without buffering."""
    mosquitto = mosquitto_factory()  # its own: the retained state stays out of other tests
    settings = backend_settings(
        tmp_path, mqtt_enabled=True, mqtt_url=mosquitto.url, mqtt_client_id="caddy-sse"
    )
    token = seed(settings)
    auth = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    frames: list[tuple[float, str]] = []
    headers: dict[str, str] = {}
    with (
        caddy_in_front_of(settings, pki, tmp_path) as url,
        httpx.Client(base_url=url, verify=_trusting(pki.ca_pem), timeout=15) as client,
    ):

        def read() -> None:
            try:
                with client.stream(
                    "GET", "/api/v1/stream?site=hq&floor=hq-1", headers=auth, timeout=None
                ) as stream:
                    headers.update(stream.headers)
                    for line in stream.iter_lines():
                        frames.append((time.monotonic(), line))
            except httpx.HTTPError:
                pass  # the proxy goes away when the test ends

        threading.Thread(target=read, daemon=True).start()
        wait_until(
            lambda: any(line == "event: snapshot" for _, line in frames), 15, what="snapshot"
        )
        assert headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in headers  # not compressed (and so not held back)
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        publisher.connect(mosquitto.host, mosquitto.port)
        publisher.loop_start()
        try:
            sent = time.monotonic()
            publish_states(publisher, {"hq.1.d-001": "occupied"})

            def delta_at() -> float | None:
                for (_, before), (at, line) in zip(frames, frames[1:], strict=False):
                    if at >= sent and before == "event: delta" and '"hq.1.d-001"' in line:
                        return at
                return None

            wait_until(lambda: delta_at() is not None, EVENT_BOUND_S, what="delta via Caddy")
            took = (delta_at() or sent) - sent
            record_property("state_to_stream_via_caddy_s", round(took, 3))
        finally:
            publisher.loop_stop()
            publisher.disconnect()
