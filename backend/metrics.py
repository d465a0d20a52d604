"""Prometheus metrics of the backend on ``GET /metrics``, for the alert rules in deploy/prometheus.

The backend sees what the gateway's own metrics cannot say: whether the broker
link of the serving side is up, whether any gateway announces itself online,
how many sensors the gateway reports offline, and whether the history store
(with its retention policies) answers. Everything but the request counter is
computed at scrape time from the runtime, so a gauge can never be stale.
Each app gets its own registry, so tests may build several apps in one process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.errors import NotFound
from backend.health.service import problems
from backend.runtime import Runtime
from history.influx_client import InfluxClient
from history.retention import HOURLY_RP, RAW_RP
from history.settings import HistorySettings

#: The retention policies the gateway creates in InfluxDB (docs/operations.md, Retention).
RETENTION_POLICIES = (RAW_RP, HOURLY_RP)
#: A scrape must stay fast even while the history store hangs.
PROBE_TIMEOUT_S = 3.0


def probe_history(cfg: HistorySettings) -> tuple[bool, dict[str, bool]]:
    """Whether the history store answers, and which retention policies it holds.

    SQLite keeps no policies (the gateway prunes by age), so only reachability is told.
    """
    if not cfg.influx_url:
        return cfg.history_path.is_file(), {}
    with InfluxClient.from_settings(cfg, timeout_s=PROBE_TIMEOUT_S) as client:
        policies = client.retention_policies()
    if policies.error is not None:
        return False, {}
    return True, {name: name in policies.names for name in RETENTION_POLICIES}


class RuntimeCollector(Collector):
    """Reads the runtime's live view when Prometheus scrapes; holds the last history probe."""

    def __init__(self, runtime: Runtime, settings: HistorySettings) -> None:
        self._runtime = runtime
        self._settings = settings
        self.history: tuple[bool, dict[str, bool]] = (False, {})
        self.current = self.snapshot()

    async def refresh(self) -> None:
        """Probe the history off the event loop, then copy the in-memory stores on it."""
        self.history = await asyncio.to_thread(probe_history, self._settings)
        self.current = self.snapshot()

    def snapshot(self) -> dict[str, Any]:
        """Copy what the collector exports; called on the event loop, which owns the stores."""
        now_ms = int(time.time() * 1000)
        stale_s = self._runtime.health.stale_after_s
        states = {"online": 0, "offline": 0, "stale": 0}
        for record in list(self._runtime.health.records.values()):
            found = problems(record, now_ms, stale_s)
            key = "offline" if "offline" in found else "stale" if "stale" in found else "online"
            states[key] += 1
        live = self._runtime.live
        return {
            "mqtt": live.connected,
            "gateway": live.gateway == "online",
            "gateways_known": len(live.gateways),
            "sensors": states,
            "spaces": len(self._runtime.hub.spaces),
            "sse": len(self._runtime.hub.clients),
        }

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Export the gauges (prometheus_client calls this during ``generate_latest``)."""
        snap = self.current
        yield _gauge(
            "werkplek_backend_mqtt_connected", "1 while the broker link is up", snap["mqtt"]
        )
        yield _gauge(
            "werkplek_backend_gateway_online",
            "1 while a live gateway's retained status says online",
            snap["gateway"],
        )
        sensors = GaugeMetricFamily(
            "werkplek_backend_sensors",
            "Sensors by the state of their last health record (online, offline, stale)",
            labels=["state"],
        )
        for state, count in sorted(snap["sensors"].items()):
            sensors.add_metric([state], count)
        yield sensors
        yield _gauge("werkplek_backend_spaces", "Spaces in the live view", snap["spaces"])
        yield _gauge("werkplek_backend_sse_clients", "Open screen streams", snap["sse"])
        reachable, policies = self.history
        yield _gauge(
            "werkplek_backend_history_reachable", "1 when the history store answered", reachable
        )
        retention = GaugeMetricFamily(
            "werkplek_backend_history_retention_policy",
            "1 when the InfluxDB retention policy exists (not exported for SQLite)",
            labels=["policy"],
        )
        for name, present in sorted(policies.items()):
            retention.add_metric([name], int(present))
        yield retention


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=float(value))


class RequestCounter:
    """ASGI middleware counting HTTP answers by method and status class (bounded labels)."""

    def __init__(self, app: ASGIApp, counter: Counter) -> None:
        self.app = app
        self.counter = counter
        # The counter's child per (method, status class): ``labels()`` checks and looks
        # up its arguments under a lock on every call, a cost on every answer.
        self._children: dict[tuple[str, str], Counter] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; count it once its status is known."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                key = (scope["method"], f"{int(message['status']) // 100}xx")
                child = self._children.get(key)
                if child is None:
                    child = self._children[key] = self.counter.labels(method=key[0], status=key[1])
                child.inc()
            await send(message)

        await self.app(scope, receive, counting_send)


def install_metrics(app: FastAPI, runtime: Runtime) -> None:
    """Add the request counter and ``GET /metrics`` to the app."""
    registry = CollectorRegistry()
    requests = Counter(
        "werkplek_backend_requests_total",
        "HTTP answers by method and status class",
        ["method", "status"],
        registry=registry,
    )
    collector = RuntimeCollector(runtime, runtime.settings)
    registry.register(collector)
    app.add_middleware(RequestCounter, counter=requests)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus text format, computed now; only for scrapers inside the deployment.

        The reverse proxy always adds ``X-Forwarded-For``, so a request carrying it came
        from outside and gets a 404 (Prometheus scrapes the backend directly).
        """
        if "x-forwarded-for" in request.headers or "forwarded" in request.headers:
            raise NotFound("metrics are served to the internal network only", reason="not_found")
        await collector.refresh()
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
