"""Everything the app owns while it runs: DB engine, live state, SSE hub, MQTT bridge.

Threading rule: paho calls back from its own thread, and those callbacks only
schedule work on the asyncio loop with ``call_soon_threadsafe``; the live state
and the hub are touched on the loop alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.auth import service as auth_service
from backend.auth.models import ApiToken
from backend.availability import service as availability_service
from backend.availability.hub import AvailabilityHub
from backend.availability.live import SUB_GATEWAY_STATUS, LiveState
from backend.availability.service import FloorInfo, SpaceInfo
from backend.bookings import scheduler
from backend.bookings.marks import MarksRefresher
from backend.bookings.policy import utcnow
from backend.config import Settings
from backend.database import make_engine, make_session_factory, migrate
from backend.health.service import SUB_HEALTH, HealthStore
from backend.mqtt import MqttBridge
from backend.registry_publisher import RegistryPublisher
from backend.spaces.models import Device, Floor, FloorDrawing, Space
from contract import SUB_SPACE_STATE
from contract.bridge import SUB_BRIDGE_STATE

log = logging.getLogger(__name__)


class Runtime:
    """Starts and stops the backend's long-lived parts in the right order."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.session_factory = make_session_factory(self.engine)
        self.live = LiveState()
        self.health = HealthStore(settings.stale_after_s)
        self.hub = AvailabilityHub(
            self.live, stale_after_s=settings.stale_after_s, queue_size=settings.sse_queue_size
        )
        self.publisher = RegistryPublisher()
        self.bridge: MqttBridge | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._booking_task: asyncio.Task[None] | None = None
        self._last_retention = 0.0
        self._registry_signature: tuple[Any, ...] | None = None
        self._marks_seq = itertools.count(1)
        self._marks_applied = 0
        self.last_tick: scheduler.TickResult | None = None
        self.marks = MarksRefresher(self._refresh_marks)
        #: sha256 of a token -> (trusted until, monotonic s; the token row)
        self.token_cache: dict[str, tuple[float, ApiToken]] = {}

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
                subscriptions=[SUB_SPACE_STATE, SUB_GATEWAY_STATUS, SUB_HEALTH, SUB_BRIDGE_STATE],
                on_message=self._message_from_thread,
                on_connection=self._connection_from_thread,
                tls=self.settings.mqtt_tls(),
            )
            self.publisher.attach(self.bridge.publish)
            self.bridge.start()
        self._ticker = asyncio.create_task(self._tick(), name="werkplek-stale-ticker")
        self._booking_task = asyncio.create_task(self._booking_loop(), name="werkplek-bookings")

    def close_streams(self) -> None:
        """End all SSE streams; thread-safe. Call before stopping uvicorn, which waits for them."""
        self._call_soon(self.hub.close_all)

    async def stop(self) -> None:
        """Stop the ticker and the MQTT bridge, then release the database."""
        self.hub.close_all()
        for task in (self._ticker, self._booking_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.bridge is not None:
            self.publisher.attach(None)
            await asyncio.to_thread(self.bridge.stop)
        self._loop = None
        self.engine.dispose()

    async def reload_registry(self) -> None:
        """Re-read spaces, floors and devices; changed registry messages are republished."""
        loaded = await asyncio.to_thread(self._read_registry)
        if loaded is not None:
            self.hub.set_registry(*loaded)

    def _prepare_database(self) -> None:
        log.info("database: %s", migrate(self.engine))
        token = self.settings.bootstrap_admin_token
        if token:
            with self.session_factory() as session:
                if auth_service.ensure_token(session, token, "admin", "bootstrap"):
                    log.info("auth: bootstrap admin token stored")

    def _read_registry(self) -> tuple[list[SpaceInfo], list[FloorInfo]] | None:
        # Reading thousands of rows every 30 s holds the GIL long enough to delay
        # pushes; a cheap signature (counts, newest change) says whether anything moved.
        with self.session_factory() as session:
            signature = registry_signature(session)
            if signature == self._registry_signature:
                return None
            self.publisher.load(session)
            loaded = availability_service.load_registry(session)
            self._registry_signature = signature
            return loaded

    async def _tick(self) -> None:
        # Silence must turn into "unknown" even when no message arrives.
        elapsed = 0.0
        while True:
            await asyncio.sleep(self.settings.stale_check_s)
            elapsed += self.settings.stale_check_s
            try:
                # Only age-based staleness needs the clock, and it applies only while no
                # gateway status is known; a live gateway publishes every change itself.
                # A full scan of a large building blocks the loop, so skip it otherwise.
                if self.live.gateway == "unknown":
                    self.hub.refresh(None)
                if elapsed >= self.settings.registry_reload_s:
                    elapsed = 0.0
                    await self.reload_registry()
            except Exception:
                log.exception("availability ticker failed; it keeps running")

    def bookings_changed(self) -> None:
        """Re-read the booking marks after a change (any thread) and push what changed.

        Concurrent changes share one read (``MarksRefresher``); it is scheduled on the
        loop before the caller's response, so the client's next read sees the change.
        """
        self.marks.changed()

    def _refresh_marks(self) -> None:
        self._call_soon(self._apply_marks, *self._read_marks())

    def _apply_marks(self, seq: int, marks: dict[str, tuple[int | None, int | None]]) -> None:
        # Reads run in threads and may finish out of order; a read that started
        # earlier must not overwrite a newer one (a new booking would flicker free).
        if seq < self._marks_applied:
            return
        self._marks_applied = seq
        self.hub.set_marks(marks)

    def _read_marks(self) -> tuple[int, dict[str, tuple[int | None, int | None]]]:
        seq = next(self._marks_seq)  # atomic: taken before the read starts
        with self.session_factory() as session:
            marks = scheduler.load_marks(session, utcnow())
        return seq, {sid: (_ms(m.booked_until), _ms(m.next_start)) for sid, m in marks.items()}

    def sensor_views(self) -> dict[str, scheduler.SensorView]:
        """Translate the live view into scheduler evidence (on the loop)."""
        views = {}
        for sid, item in self.hub.view.items():
            state = {"occupied": "occupied", "free": "vacant", "booked": "vacant"}.get(
                item.availability, "unknown"
            )
            views[sid] = scheduler.SensorView(state, scheduler.utc_from_ms(item.since))
        return views

    async def booking_tick(self) -> scheduler.TickResult:
        """One scheduler run: check-ins and releases, then fresh marks; retention hourly."""
        views = self.sensor_views()
        result = await asyncio.to_thread(scheduler.run_once, self.session_factory, utcnow(), views)
        self.last_tick = result
        self._apply_marks(*await asyncio.to_thread(self._read_marks))
        if time.monotonic() - self._last_retention > 3600:
            self._last_retention = time.monotonic()
            await asyncio.to_thread(self._retention)
        return result

    def _retention(self) -> None:
        with self.session_factory() as session:
            done = scheduler.run_retention(session, utcnow(), self.settings.retention_days)
        log.info("retention: %s", done)

    async def _booking_loop(self) -> None:
        # A replica that restarts simply resumes: all state is in the database.
        while True:
            try:
                await self.booking_tick()
            except Exception:
                log.exception("booking scheduler failed; it keeps running")
            await asyncio.sleep(self.settings.booking_check_s)

    def _message_from_thread(self, topic: str, payload: bytes, _retained: bool) -> None:
        if "/_health/" in topic:
            self._call_soon(self.health.on_message, topic, payload)
            return
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


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


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
