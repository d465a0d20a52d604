"""Everything the app owns while it runs, composed from owners that start and stop alone.

- ``LiveFeed`` (``backend.live_feed``): MQTT bridge, live state, sensor health, SSE hub,
  registry sync and publisher, staleness ticker;
- ``BookingJobs`` (``backend.bookings.jobs``): scheduler loop, booking marks, retention;
- ``TokenCache`` (``backend.auth.token_cache``): checked bearer tokens;
- ``BookingEvents`` (``backend.bookings.events``): committed booking changes reach the
  marks by themselves, from any caller of the booking service.
"""

from __future__ import annotations

import asyncio
import logging

from backend.auth import service as auth_service
from backend.auth.token_cache import TokenCache
from backend.bookings import scheduler
from backend.bookings.events import BookingEvents
from backend.bookings.jobs import BookingJobs
from backend.config import Settings
from backend.database import make_engine, make_session_factory, migrate
from backend.live_feed import LiveFeed
from backend.mqtt import MqttBridge

log = logging.getLogger(__name__)


class Runtime:
    """The database, the live feed, the booking jobs and the token cache of one process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url, settings.database_limits())
        self.session_factory = make_session_factory(self.engine)
        self.tokens = TokenCache()
        self.feed = LiveFeed(settings, self.session_factory)
        self.jobs = BookingJobs(settings, self.session_factory, self.feed)
        BookingEvents(self.jobs.changed).install(self.session_factory)
        # The parts other modules read most, by their old names.
        self.live, self.hub, self.health = self.feed.live, self.feed.hub, self.feed.health
        self.publisher = self.feed.registry.publisher

    async def start(self) -> None:
        """Migrate the database, then start the live feed and the booking jobs."""
        await asyncio.to_thread(self._prepare_database)
        self.tokens.start()
        await self.feed.start()
        await self.jobs.start()

    async def stop(self) -> None:
        """Stop in reverse order, then release the database."""
        await self.jobs.stop()
        await self.feed.stop()
        self.tokens.stop()
        self.engine.dispose()

    @property
    def bridge(self) -> MqttBridge | None:
        """The broker link (None without a broker or before start)."""
        return self.feed.bridge

    @property
    def running(self) -> bool:
        """True between start and stop."""
        return self.feed.loop is not None

    @property
    def last_tick(self) -> scheduler.TickResult | None:
        """What the scheduler's latest run changed."""
        return self.jobs.last_tick

    def close_streams(self) -> None:
        """End all SSE streams; thread-safe. Call before stopping uvicorn, which waits for them."""
        self.feed.close_streams()

    async def reload_registry(self) -> None:
        """Re-read spaces, floors and devices now (after an edit through this process)."""
        await self.feed.registry.reload()

    def _prepare_database(self) -> None:
        log.info("database: %s", migrate(self.engine))
        token = self.settings.bootstrap_admin_token
        if token:
            with self.session_factory() as session:
                if auth_service.ensure_token(session, token, "admin", "bootstrap"):
                    log.info("auth: bootstrap admin token stored")
