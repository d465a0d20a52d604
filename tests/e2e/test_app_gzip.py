"""Gzip: pages and JSON are compressed, the live stream is not, and what it saves is measured.

The saving is measured in one run against the same backend without the middleware,
for the booking app and the signage page, as Chromium transfers them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest

from backend.availability.compress import GzipExceptStreams
from backend.config import Settings
from backend.main import create_app
from tests.e2e.test_app import backend_settings, seed
from tests.e2e.test_app_features import login, publish_states
from tests.helpers import serve_app
from tests.services import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
#: Generous for a shared 2-core machine; the measured time is recorded.
EVENT_BOUND_S = 5.0


@contextmanager
def backend(settings: Settings, *, gzip: bool = True) -> Iterator[str]:
    """Serve the app, or the same app with the compression middleware taken out."""
    app = create_app(settings)
    if not gzip:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not GzipExceptStreams]
    with serve_app(app, settings.http_port) as url:
        yield url


def test_pages_and_json_are_compressed_but_the_stream_is_not(
    mosquitto_factory, tmp_path, record_property
):
    broker = mosquitto_factory()
    settings = backend_settings(
        tmp_path, mqtt_enabled=True, mqtt_url=broker.url, mqtt_client_id="e2e-gzip"
    )
    token = seed(settings)
    auth = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    with backend(settings) as url, httpx.Client(base_url=url, timeout=10) as client:
        for path in ("/app/app.js", "/app/", "/signage/", "/api/v1/availability?site=hq"):
            answer = client.get(path, headers=auth)
            assert answer.status_code == 200, (path, answer.text)
            assert answer.headers.get("content-encoding") == "gzip", path
            assert "accept-encoding" in answer.headers.get("vary", "").lower(), path
        small = client.get("/healthz", headers=auth)
        assert "content-encoding" not in small.headers, "below 1 KB nothing is compressed"
        plain = client.get("/app/app.js", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        # The stream, asked for with gzip allowed, arrives uncompressed and at once.
        frames: list[tuple[float, str]] = []
        headers: dict[str, str] = {}
        stop = threading.Event()

        def read() -> None:
            with client.stream(
                "GET", "/api/v1/stream?site=hq&floor=hq-1", headers=auth, timeout=None
            ) as stream:
                headers.update(stream.headers)
                for line in stream.iter_lines():
                    frames.append((time.monotonic(), line))
                    if stop.is_set():
                        return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        wait_until(
            lambda: any(line == "event: snapshot" for _, line in frames), 10, what="snapshot"
        )
        assert "content-encoding" not in headers and headers["content-type"].startswith(
            "text/event-stream"
        )
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        publisher.connect(broker.host, broker.port)
        publisher.loop_start()
        try:
            sent = time.monotonic()
            publish_states(publisher, {"hq.1.d-001": "occupied"})

            def deltas() -> list[float]:
                return [
                    t
                    for (_, before), (t, line) in zip(frames, frames[1:], strict=False)
                    if t >= sent and before == "event: delta" and '"hq.1.d-001"' in line
                ]

            wait_until(deltas, EVENT_BOUND_S, what="the delta over a gzip-capable request")
            took = deltas()[0]
        finally:
            publisher.loop_stop()
            publisher.disconnect()
            stop.set()
    record_property("sse_delta_with_gzip_s", round(took - sent, 3))
    print(f"\nSSE delta arrived {took - sent:.3f} s after the MQTT message (gzip allowed)")


def _weight(page: Any) -> tuple[int, int]:
    """Bytes transferred for the page: (html, css and js; everything but the live stream)."""
    entries = page.evaluate(
        "performance.getEntriesByType('resource').concat("
        "performance.getEntriesByType('navigation'))"
        ".filter(e => !e.name.includes('/api/v1/stream?'))"
        ".map(e => ({name: e.name, size: e.transferSize}))"
    )
    static = sum(e["size"] for e in entries if "/api/" not in e["name"])
    return static, sum(e["size"] for e in entries)


@pytest.mark.browser
def test_page_weight_with_and_without_gzip(browser, tmp_path, record_property):
    settings = backend_settings(tmp_path)
    token = seed(settings, "anna")
    figures: dict[str, dict[str, tuple[int, int]]] = {}
    for gzip in (False, True):
        label = "gzip" if gzip else "plain"
        with backend(settings, gzip=gzip) as url:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            try:
                page = context.new_page()
                page.goto(f"{url}/app/")
                login(page, "anna")
                page.wait_for_function("() => document.querySelectorAll('#plan .desk').length > 0")
                app = _weight(page)
                page.goto(f"{url}/signage/?site=hq&floor=hq-1#token={token}")
                page.wait_for_function(
                    "() => document.querySelectorAll('#plan-spaces [data-space-id]').length > 0"
                )
                figures[label] = {"app": app, "signage": _weight(page)}
            finally:
                context.close()
    for label, pages in figures.items():
        for name, (static, total) in pages.items():
            record_property(f"{name}_{label}_static_bytes", static)
            record_property(f"{name}_{label}_total_bytes", total)
    print("\npage weight (bytes transferred; static = html+css+js, total = with API data)")
    for name in ("app", "signage"):
        (ps, pt), (gs, gt) = figures["plain"][name], figures["gzip"][name]
        print(
            f"  {name}: static {ps} -> {gs} ({gs / ps:.2f}x), total {pt} -> {gt} ({gt / pt:.2f}x)"
        )
        assert gs < 0.6 * ps and gt < 0.7 * pt, figures
