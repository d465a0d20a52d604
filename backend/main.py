"""ASGI application factory: routers, error handlers, guarding middlewares, lifespan, pages."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from backend import handlers
from backend.auth.router import router as auth_router
from backend.auth.stream import StreamTokens
from backend.auth.streams import StreamWatch
from backend.availability.compress import GzipExceptStreams
from backend.availability.queries import router as queries_router
from backend.availability.router import router as availability_router
from backend.bookings.gate import BookingGate
from backend.bookings.panel import router as panel_router
from backend.bookings.router import router as bookings_router
from backend.bookings.rules_router import router as rules_router
from backend.bookings.series import router as series_router
from backend.config import Settings, get_settings
from backend.dependencies import RuntimeDep, SessionDep
from backend.docs_page import install_docs
from backend.facility.hvac import BridgePort
from backend.facility.router import router as facility_router
from backend.health.router import router as health_router
from backend.health.status import HistoryHealth, mqtt_status
from backend.metrics import install_metrics
from backend.middleware.access_log import install_access_log_filter
from backend.middleware.clock import ClockHeader
from backend.middleware.errors import CatchAll
from backend.middleware.headers import SecurityHeaders
from backend.middleware.limits import RequestGuard
from backend.openapi import install_openapi
from backend.people.router import router as people_router
from backend.plans.facility_router import router as plans_facility_router
from backend.plans.router import router as plans_router
from backend.privacy.router import router as privacy_router
from backend.runtime import Runtime
from backend.spaces import service as spaces_service
from backend.spaces.router import router as spaces_router
from backend.teams.router import router as teams_router


def freeze_heap() -> None:
    """Put what the backend process has built so far out of the garbage collector's sight.

    For a process that serves the backend (``werkplek backend``), called after
    ``create_app``; apps that embed the backend (the demo, tests) keep their collector.
    A full collection walked the ~200,000 objects of the imported modules and the app
    on every pass: a 60-150 ms pause of every thread, about once a second under 50
    booking clients, which every booking in flight waited out (the p99 tail;
    docs/operations.md, Throughput of bookings). Frozen objects are never collected;
    these live as long as the process anyway.
    """
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the backend app; tests and the demo pass their own settings."""
    settings = settings or get_settings()
    runtime = Runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = runtime
        await runtime.start()
        await app.state.stream_watch.start()
        try:
            yield
        finally:
            await app.state.stream_watch.stop()
            await runtime.stop()

    app = FastAPI(
        title="Werkplek", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.runtime = runtime
    app.state.stream_watch = StreamWatch(
        runtime.session_factory,
        per_token=settings.sse_max_per_token,
        recheck_s=settings.stream_recheck_s,
    )
    key = settings.stream_token_key
    # At most a few bookings at once in the thread pool; waits bounded like a pool checkout.
    app.state.booking_gate = BookingGate(wait_s=settings.database_limits().pool_timeout_s)
    app.state.stream_tokens = StreamTokens(key.get_secret_value().encode() if key else None)
    # HVAC zone commands leave through a port over the MQTT bridge (a dry run unless enabled).
    app.state.hvac_port = BridgePort(lambda: runtime.bridge)
    # The first added runs innermost: headers wrap everything, even a 413 or a 500.
    app.add_middleware(GzipExceptStreams)  # pages and JSON; never the SSE stream
    app.add_middleware(CatchAll)
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ClockHeader)  # the pages' clocks follow the backend's
    handlers.install(app)
    install_access_log_filter()  # no tokens in the access log
    install_docs(app)
    install_openapi(app)
    app.include_router(spaces_router)
    app.include_router(availability_router)
    app.include_router(queries_router)
    app.include_router(bookings_router)
    app.include_router(series_router)
    app.include_router(rules_router)
    app.include_router(people_router)
    app.include_router(privacy_router)
    app.include_router(facility_router)
    app.include_router(plans_router)
    app.include_router(plans_facility_router)
    app.include_router(teams_router)
    app.include_router(health_router)
    app.include_router(auth_router)
    app.include_router(panel_router)
    install_metrics(app, runtime)  # GET /metrics for Prometheus
    app.mount(
        "/signage",
        StaticFiles(directory=settings.signage_dir, html=True, check_dir=False),
        name="signage",
    )
    app.mount(  # the booking app lives next to the signage page
        "/app",
        StaticFiles(directory=settings.signage_dir.parent / "app", html=True, check_dir=False),
        name="app",
    )
    app.mount(  # the facility pages, next to the booking app
        "/facility",
        StaticFiles(directory=settings.signage_dir.parent / "facility", html=True, check_dir=False),
        name="facility",
    )
    app.mount(  # the client every page loads first (API, live stream, texts)
        "/shared",
        StaticFiles(directory=settings.signage_dir.parent / "shared", check_dir=False),
        name="shared",
    )

    favicon = settings.signage_dir.parent / "favicon.svg"

    @app.get("/favicon.svg", include_in_schema=False)
    @app.get("/favicon.ico", include_in_schema=False)
    def favicon_file() -> FileResponse:
        """One SVG icon for every page (browsers ask /favicon.ico when a page names none)."""
        return FileResponse(
            favicon, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
        )

    @app.get("/", include_in_schema=False)
    def start_page(session: SessionDep) -> RedirectResponse:
        """Send visitors to the signage page of the first site's lowest floor."""
        for site in spaces_service.list_sites(session):  # central offices first
            floors = spaces_service.list_floors(session, site.id)
            if floors:
                query = urlencode({"site": site.id, "floor": floors[0].id})
                return RedirectResponse(f"/signage/?{query}")
        return RedirectResponse("/signage/")

    history_health = HistoryHealth(settings)

    @app.get("/healthz", tags=["health"])
    def health(runtime: RuntimeDep) -> dict[str, Any]:
        """Liveness plus what an operator checks first: broker link, history, retention.

        ``status`` says the process serves (the database answers); ``problems``
        lists, with reasons, a broker link that is down, a history store that is
        unreachable or not configured, and retention that is not in place.
        ``werkplek healthcheck backend`` judges the details.
        """
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        mqtt = mqtt_status(runtime.bridge, runtime.live.connected)
        history = history_health.current()
        problems: list[str] = []
        if settings.mqtt_enabled and not mqtt["connected"]:
            problems.append(f"mqtt: {mqtt['reason']}")
        if not history["history"]["reachable"]:
            problems.append(f"history: {history['history']['reason']}")
        if history["retention"]["ok"] is not True:
            problems.append(f"retention: {history['retention']['reason']}")
        return {
            "status": "ok",
            "problems": problems,
            "mqtt": mqtt,
            **history,
            "mqtt_connected": runtime.live.connected,
            "gateway": runtime.live.gateway,
            "spaces": len(runtime.hub.spaces),
            "sse_clients": len(runtime.hub.clients),
            "space_state_accepted": runtime.live.accepted,
            "space_state_rejected": dict(runtime.live.rejected),
        }

    return app
