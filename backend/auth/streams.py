"""Open push streams are held to their token: revoked, expired or deactivated ends them.

A stream is authenticated once, when it opens, and then may stay open for days.
Without this watch it outlived the revocation of its token and the deactivation
of its person. Every ``recheck_s`` the watch asks the database, in one query for
all open streams of the process, which of their tokens still open anything, and
ends the streams of the others; a change made in this process (an admin
deactivating someone) pokes it to check at once.

It also caps the streams one token may hold open (``per_token``): one screen's
token could otherwise take every stream slot of the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from backend.auth import service as auth_service
from backend.errors import RateLimited
from backend.spaces.models import utcnow

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Ticket:
    """One open (or opening) stream of a token; ``end`` is called to close it."""

    token_id: int
    end: Callable[[], None] | None = None
    ended: bool = False
    released: bool = field(default=False, repr=False)

    def close(self) -> None:
        """End the stream now (or, before it started, as soon as it starts)."""
        self.ended = True
        if self.end is not None:
            self.end()


class StreamWatch:
    """Tickets of the open streams, the per-token cap and the periodic re-check."""

    def __init__(
        self, session_factory: sessionmaker[Session], *, per_token: int, recheck_s: float
    ) -> None:
        self._session_factory = session_factory
        self.per_token = per_token
        self.recheck_s = recheck_s
        self.tickets: dict[int, set[Ticket]] = {}
        self._poked: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    def open(self, token_id: int) -> Ticket:
        """Take a stream slot of ``token_id``.

        Raises:
            RateLimited: the token holds ``per_token`` streams already.
        """
        held = self.tickets.setdefault(token_id, set())
        if len(held) >= self.per_token:
            raise RateLimited(
                f"this token has {self.per_token} streams open already; close one first",
                reason="too_many_streams_for_token",
                retry_after=30,
            )
        ticket = Ticket(token_id)
        held.add(ticket)
        return ticket

    def release(self, ticket: Ticket) -> None:
        """Give the slot back (idempotent)."""
        if ticket.released:
            return
        ticket.released = True
        held = self.tickets.get(ticket.token_id)
        if held is not None:
            held.discard(ticket)
            if not held:
                del self.tickets[ticket.token_id]

    def poke(self) -> None:
        """Re-check at once; callable from any thread."""
        loop, poked = self._loop, self._poked
        if loop is not None and poked is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                loop.call_soon_threadsafe(poked.set)

    async def start(self) -> None:
        """Start the re-check loop (in the app's lifespan)."""
        self._loop = asyncio.get_running_loop()
        self._poked = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="werkplek-stream-watch")

    async def stop(self) -> None:
        """Stop the re-check loop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._loop = None

    async def check(self) -> int:
        """End the streams whose token no longer opens anything; return how many."""
        watched = set(self.tickets)
        if not watched:
            return 0
        live = await asyncio.to_thread(self._live, watched)
        ended = 0
        for token_id in watched - live:
            for ticket in list(self.tickets.get(token_id, ())):
                ticket.close()
                self.release(ticket)
                ended += 1
        if ended:
            log.info("streams: ended %d whose token was revoked, expired or disabled", ended)
        return ended

    def _live(self, token_ids: set[int]) -> set[int]:
        with self._session_factory() as session:
            return auth_service.live_ids(session, token_ids, utcnow())

    async def _run(self) -> None:
        assert self._poked is not None
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.recheck_s):
                    await self._poked.wait()
            self._poked.clear()
            try:
                await self.check()
            except Exception:
                log.exception("stream re-check failed; it keeps running")


class WatchedStream(StreamingResponse):
    """A streaming response that gives its ticket back however it ends (even unstarted)."""

    def __init__(self, *args: Any, watch: StreamWatch, ticket: Ticket, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watch, self._ticket = watch, ticket

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Stream, then release the slot."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._watch.release(self._ticket)
