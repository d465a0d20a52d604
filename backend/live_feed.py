"""The live side of the backend: broker link, space states, sensor health, SSE hub, registry.

Threading rule: paho calls back from its own thread, and those callbacks only
schedule work on the asyncio loop with ``call_soon_threadsafe``; the live state,
the health store and the hub are touched on the loop alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.availability import service as availability_service
from backend.availability.hub import AvailabilityHub
from backend.availability.live import SUB_GATEWAY_STATUS, LiveState
from backend.availability.service import FloorInfo, SpaceInfo
from backend.config import Settings
from backend.health.service import SUB_HEALTH, HealthStore
from backend.mqtt import MqttBridge
from backend.registry_publisher import RegistryPublisher
from backend.spaces.models import Device, Floor, FloorDrawing, Space
from contract import SUB_SPACE_STATE
from contract.bridge import SUB_BRIDGE_STATE
from contract.topics import claimed_kind

log = logging.getLogger(__name__)


class RegistrySync:
    """Keeps the hub's registry and the retained registry messages in step with the database.

    Reading thousands of rows every 30 s holds the GIL long enough to delay pushes;
    a cheap signature (counts, newest change) says whether anything moved.
    """

    def __init__(self, factory: sessionmaker[Session], hub: AvailabilityHub) -> None:
        self._factory = factory
        self._hub = hub
        self.publisher = RegistryPublisher()
        self._signature: tuple[Any, ...] | None = None

    def start(self, bridge: MqttBridge | None) -> None:
        """Publish registry changes through the bridge (None: no broker, nothing published)."""
        if bridge is not None:
            self.publisher.attach(bridge.publish)

    def stop(self) -> None:
        """Stop publishing."""
        self.publisher.attach(None)

    async def reload(self) -> None:
        """Re-read spaces, floors and devices; changed registry messages are republished."""
        loaded = await asyncio.to_thread(self._read)
        if loaded is not None:
            self._hub.set_registry(*loaded)

    def _read(self) -> tuple[list[SpaceInfo], list[FloorInfo]] | None:
        with self._factory() as session:
            signature = registry_signature(session)
            if signature == self._signature:
                return None
            self.publisher.load(session)
            loaded = availability_service.load_registry(session)
            self._signature = signature
            return loaded


class LiveFeed:
    """MQTT bridge -> live state and health -> availability hub; plus the staleness ticker."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session]) -> None:
        self.settings = settings
        self.live = LiveState()
        self.health = HealthStore(settings.stale_after_s)
        self.hub = AvailabilityHub(
            self.live, stale_after_s=settings.stale_after_s, queue_size=settings.sse_queue_size
        )
        self.registry = RegistrySync(factory, self.hub)
        self.bridge: MqttBridge | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ticker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Load the registry, connect to the broker, start the ticker (on the loop)."""
        self.loop = asyncio.get_running_loop()
        await self.registry.reload()
        if self.settings.mqtt_enabled:
            self.bridge = MqttBridge(
                self.settings.mqtt_url,
                protocol=self.settings.mqtt_protocol,
                client_id=self.settings.mqtt_client_id,
                subscriptions=[SUB_SPACE_STATE, SUB_GATEWAY_STATUS, SUB_HEALTH, SUB_BRIDGE_STATE],
                on_message=self.message_from_thread,
                on_connection=self.connection_from_thread,
                tls=self.settings.mqtt_tls(),
            )
            self.registry.start(self.bridge)
            self.bridge.start()
        self._ticker = asyncio.create_task(self._tick(), name="werkplek-stale-ticker")

    async def stop(self) -> None:
        """End the streams, stop the ticker and the broker link."""
        self.hub.close_all()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self.bridge is not None:
            self.registry.stop()
            await asyncio.to_thread(self.bridge.stop)
        self.loop = None

    def close_streams(self) -> None:
        """End all SSE streams; thread-safe. Call before stopping uvicorn, which waits for them."""
        self.call_soon(self.hub.close_all)

    async def _tick(self) -> None:
        # Silence must turn into "unknown" even when no message arrives. Only spaces
        # whose state reaches its age limit now are recomputed (the hub keeps their
        # deadlines), and only while no gateway status is known: a live gateway
        # publishes every change itself. A full rescan every second blocked the loop.
        elapsed = 0.0
        while True:
            await asyncio.sleep(self.settings.stale_check_s)
            elapsed += self.settings.stale_check_s
            try:
                self.hub.refresh_stale(apply=self.live.gateway == "unknown")
                if elapsed >= self.settings.registry_reload_s:
                    elapsed = 0.0
                    await self.registry.reload()
            except Exception:
                log.exception("availability ticker failed; it keeps running")

    def message_from_thread(self, topic: str, payload: bytes, _retained: bool) -> None:
        """Route one MQTT message (paho's thread) to its store on the loop."""
        if claimed_kind(topic) == "health":  # broken health topics too: its store counts them
            self.call_soon(self.health.on_message, topic, payload)
            return
        self.call_soon(self.hub.on_message, topic, payload)

    def connection_from_thread(self, connected: bool) -> None:
        """Record the broker link (paho's thread); a new link republishes the registry."""
        if connected:
            self.registry.publisher.publish_all()
        self.call_soon(self.hub.on_connection, connected)

    def call_soon(self, func: Callable[..., None], *args: Any) -> None:
        """Run ``func`` on the loop (from any thread); dropped once the feed stopped."""
        loop = self.loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed during shutdown
            loop.call_soon_threadsafe(func, *args)


def registry_signature(session: Session) -> tuple[Any, ...]:
    """Return counts and newest change times of the registry tables."""
    return tuple(
        session.execute(
            select(
                select(func.count()).select_from(Space).scalar_subquery(),
                select(func.max(Space.created_at)).scalar_subquery(),
                select(func.count()).select_from(Floor).scalar_subquery(),
                select(func.max(Floor.created_at)).scalar_subquery(),
                select(func.count()).select_from(Device).scalar_subquery(),
                select(func.max(Device.updated_at)).scalar_subquery(),
                # Edits of spaces and drawings (backend/spaces/editing.py) change these.
                select(func.max(Space.updated_at)).scalar_subquery(),
                select(func.count()).select_from(FloorDrawing).scalar_subquery(),
                select(func.max(FloorDrawing.updated_at)).scalar_subquery(),
            )
        ).one()
    )
