"""Everything the app owns while it runs: DB engine, live state, SSE hub, MQTT bridge.

Threading rule: paho calls back from its own thread, and those callbacks only
schedule work on the asyncio loop with ``call_soon_threadsafe``; the live state
and the hub are touched on the loop alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from backend.auth import service as auth_service
from backend.availability import service as availability_service
from backend.availability.hub import AvailabilityHub
from backend.availability.live import SUB_GATEWAY_STATUS, LiveState
from backend.availability.service import FloorInfo, SpaceInfo
from backend.config import Settings
from backend.database import create_all, make_engine, make_session_factory
from backend.mqtt import MqttBridge
from backend.registry_publisher import RegistryPublisher
from werkplek.contract import SUB_SPACE_STATE

log = logging.getLogger(__name__)


class Runtime:
    """Starts and stops the backend's long-lived parts in the right order."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.session_factory = make_session_factory(self.engine)
        self.live = LiveState()
        self.hub = AvailabilityHub(
            self.live, stale_after_s=settings.stale_after_s, queue_size=settings.sse_queue_size
        )
        self.publisher = RegistryPublisher()
        self.bridge: MqttBridge | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ticker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Create tables, load the registry, connect to the broker, start the stale ticker."""
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self._prepare_database)
        await self.reload_registry()
        if self.settings.mqtt_enabled:
            self.bridge = MqttBridge(
                self.settings.mqtt_url,
                protocol=self.settings.mqtt_protocol,
                client_id=self.settings.mqtt_client_id,
                subscriptions=[SUB_SPACE_STATE, SUB_GATEWAY_STATUS],
                on_message=self._message_from_thread,
                on_connection=self._connection_from_thread,
            )
            self.publisher.attach(self.bridge.publish)
            self.bridge.start()
        self._ticker = asyncio.create_task(self._tick(), name="werkplek-stale-ticker")

    def close_streams(self) -> None:
        """End all SSE streams; thread-safe. Call before stopping uvicorn, which waits for them."""
        self._call_soon(self.hub.close_all)

    async def stop(self) -> None:
        """Stop the ticker and the MQTT bridge, then release the database."""
        self.hub.close_all()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self.bridge is not None:
            self.publisher.attach(None)
            await asyncio.to_thread(self.bridge.stop)
        self._loop = None
        self.engine.dispose()

    async def reload_registry(self) -> None:
        """Re-read spaces, floors and devices; changed registry messages are republished."""
        spaces, floors = await asyncio.to_thread(self._read_registry)
        self.hub.set_registry(spaces, floors)

    def _prepare_database(self) -> None:
        create_all(self.engine)
        token = self.settings.bootstrap_admin_token
        if token:
            with self.session_factory() as session:
                if auth_service.ensure_token(session, token, "admin", "bootstrap"):
                    log.info("auth: bootstrap admin token stored")

    def _read_registry(self) -> tuple[list[SpaceInfo], list[FloorInfo]]:
        with self.session_factory() as session:
            self.publisher.load(session)
            return availability_service.load_registry(session)

    async def _tick(self) -> None:
        # Silence must turn into "unknown" even when no message arrives.
        elapsed = 0.0
        while True:
            await asyncio.sleep(self.settings.stale_check_s)
            elapsed += self.settings.stale_check_s
            try:
                self.hub.refresh(None)
                if elapsed >= self.settings.registry_reload_s:
                    elapsed = 0.0
                    await self.reload_registry()
            except Exception:
                log.exception("availability ticker failed; it keeps running")

    def _message_from_thread(self, topic: str, payload: bytes, _retained: bool) -> None:
        self._call_soon(self.hub.on_message, topic, payload)

    def _connection_from_thread(self, connected: bool) -> None:
        if connected:
            self.publisher.publish_all()
        self._call_soon(self.hub.on_connection, connected)

    def _call_soon(self, func: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed during shutdown
            loop.call_soon_threadsafe(func, *args)
