"""Availability endpoints: a JSON snapshot and the SSE push stream."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import asdict
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from backend.auth.router import StreamReaderDep
from backend.auth.streams import StreamWatch, Ticket, WatchedStream
from backend.availability.at import availability_at
from backend.availability.hub import CLOSE, AvailabilityHub, StreamClient, sse_frame
from backend.availability.schemas import AvailabilityAtPublic, AvailabilityPublic
from backend.bookings.policy import utcnow
from backend.dependencies import BookerDep, ReaderDep, RuntimeDep, SessionDep
from backend.errors import NotFound, Unavailable

router = APIRouter(prefix="/api/v1", tags=["availability"])

SiteQuery = Annotated[str | None, Query(description="site id, e.g. hq")]
FloorQuery = Annotated[str | None, Query(description="floor id, e.g. hq-1")]


def _check_filter(hub: AvailabilityHub, site: str | None, floor: str | None) -> None:
    if site is not None and site not in hub.sites:
        raise NotFound(f"site {site!r} does not exist", reason="site_not_found")
    if floor is not None:
        info = hub.floors.get(floor)
        if info is None or (site is not None and info.site != site):
            raise NotFound(f"floor {floor!r} does not exist on that site", reason="floor_not_found")


@router.get("/availability", response_model=AvailabilityPublic)
async def read_availability(
    runtime: RuntimeDep, _token: ReaderDep, site: SiteQuery = None, floor: FloorQuery = None
) -> AvailabilityPublic:
    """Return every space of the site/floor with its state, plus free counts per floor."""
    _check_filter(runtime.hub, site, floor)
    return AvailabilityPublic.model_validate(runtime.hub.snapshot(site, floor))


@router.get("/availability/at", response_model=AvailabilityAtPublic)
def read_availability_at(
    session: SessionDep,
    token: BookerDep,
    site: Annotated[str, Query(description="site id, e.g. hq")],
    floor: FloorQuery = None,
    date: Annotated[dt.date | None, Query(description="local day, with part (desks)")] = None,
    part: Annotated[Literal["morning", "afternoon", "day"] | None, Query()] = None,
    start: Annotated[
        dt.datetime | None, Query(description="with end (rooms); no offset = site time")
    ] = None,
    end: Annotated[dt.datetime | None, Query()] = None,
) -> AvailabilityAtPublic:
    """Free or booked per space on a later day part (desks) or time range (rooms).

    Never says who booked; the caller's own bookings are ``mine``. The window is
    checked like a booking: 422 with a reason when the site is closed then, it is
    past, beyond the booking horizon, or longer than a room may be booked.
    """
    window, spaces = availability_at(
        session,
        site_id=site,
        floor_id=floor,
        user_id=token.user_id,
        now=utcnow(),
        day=date,
        part=part,
        start=start,
        end=end,
    )
    return AvailabilityAtPublic.model_validate(
        {
            "site": site,
            "floor": floor,
            "date": window.day,
            "part": window.part,
            "start": window.start,
            "end": window.end,
            "spaces": [{**asdict(s.info), "availability": s.availability} for s in spaces],
        }
    )


def _end(client: StreamClient) -> None:
    # The stream's token was revoked: drop the backlog, then the closing marker.
    while not client.queue.empty():
        client.queue.get_nowait()
    client.queue.put_nowait(CLOSE)


async def _events(
    hub: AvailabilityHub, site: str | None, floor: str | None, ping_s: float, ticket: Ticket
) -> AsyncIterator[str]:
    # Subscribing and taking the snapshot in one synchronous step means no
    # delta can fall between them.
    if ticket.ended:
        return
    client = hub.subscribe(site, floor)
    ticket.end = partial(_end, client)
    first = "retry: 3000\n\n" + sse_frame("snapshot", hub.snapshot(site, floor))
    try:
        yield first
        while True:
            try:
                # asyncio.timeout, unlike wait_for, starts no task per event: with
                # 1,000 screens that is 1,000 fewer tasks on every push.
                async with asyncio.timeout(ping_s):
                    frame = await client.queue.get()
            except TimeoutError:
                yield ": ping\n\n"
                continue
            if frame == CLOSE:
                return
            if frame is None:
                frame = sse_frame("snapshot", hub.snapshot(client.site, client.floor))
            client.sent += 1
            yield frame
    finally:
        hub.unsubscribe(client)


@router.get("/stream", response_class=StreamingResponse)
async def stream_availability(
    request: Request,
    runtime: RuntimeDep,
    token: StreamReaderDep,
    site: SiteQuery = None,
    floor: FloorQuery = None,
) -> StreamingResponse:
    """Server-sent events: a ``snapshot`` first, then ``delta`` events with changed spaces.

    EventSource sends no headers: authenticate with ``?stream_token=`` from
    ``POST /api/v1/stream-tokens`` (a bearer header works too).
    """
    _check_filter(runtime.hub, site, floor)
    if len(runtime.hub.clients) >= runtime.settings.sse_max_clients:
        raise Unavailable("too many open streams; retry shortly", reason="too_many_streams")
    watch: StreamWatch = request.app.state.stream_watch  # ends it when the token dies
    ticket = watch.open(token.id)
    return WatchedStream(
        _events(runtime.hub, site, floor, runtime.settings.sse_ping_s, ticket),
        watch=watch,
        ticket=ticket,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
