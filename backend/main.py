"""ASGI application factory: routers, the one domain-error handler, lifespan, signage files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from backend.auth.router import router as auth_router
from backend.auth.stream import StreamTokens
from backend.availability.compress import GzipExceptStreams
from backend.availability.queries import router as queries_router
from backend.availability.router import router as availability_router
from backend.bookings.panel import router as panel_router
from backend.bookings.router import router as bookings_router
from backend.bookings.rules_router import router as rules_router
from backend.bookings.series import router as series_router
from backend.config import Settings, get_settings
from backend.dependencies import RuntimeDep, SessionDep
from backend.errors import DomainError
from backend.facility.router import router as facility_router
from backend.health.router import router as health_router
from backend.health.status import HistoryHealth, mqtt_status
from backend.metrics import install_metrics
from backend.people.router import router as people_router
from backend.privacy.router import router as privacy_router
from backend.runtime import Runtime
from backend.spaces import service as spaces_service
from backend.spaces.router import router as spaces_router


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers = None
    if exc.status_code == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    elif exc.status_code == 503:
        headers = {"Retry-After": "10"}
    elif exc.status_code == 429:
        headers = {"Retry-After": "900"}
    return _problem(exc.status_code, exc.message, exc.reason, headers=headers)


def _problem(
    status: int, detail: str, reason: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    # RFC 9457 problem details; ``reason`` is our stable machine-readable code.
    body = {
        "type": f"https://werkplek.example/problems/{reason}",
        "title": reason.replace("_", " "),
        "status": status,
        "detail": detail,
        "reason": reason,
        **extra,
    }
    return JSONResponse(
        body, status_code=status, headers=headers, media_type="application/problem+json"
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"])
    return _problem(422, f"{where}: {first['msg']}", "validation_error", errors=errors)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the backend app; tests and the demo pass their own settings."""
    settings = settings or get_settings()
    runtime = Runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = runtime
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title="Werkplek", version="0.1.0", lifespan=lifespan)
    app.state.runtime = runtime
    key = settings.stream_token_key
    app.state.stream_tokens = StreamTokens(key.get_secret_value().encode() if key else None)
    app.add_middleware(GzipExceptStreams)  # pages and JSON; never the SSE stream
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.include_router(spaces_router)
    app.include_router(availability_router)
    app.include_router(queries_router)
    app.include_router(bookings_router)
    app.include_router(series_router)
    app.include_router(rules_router)
    app.include_router(people_router)
    app.include_router(privacy_router)
    app.include_router(facility_router)
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
