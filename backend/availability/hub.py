"""In-process fan-out of availability changes to many SSE clients.

Runs on the asyncio loop only (MQTT callbacks arrive via ``call_soon_threadsafe``).
Each client has a bounded queue of pre-encoded frames; a client whose queue is
full is not waited for: its backlog is dropped and it gets a fresh snapshot
instead, so one slow screen never delays the others.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from backend.availability.live import ALL_SPACES, LiveState
from backend.availability.service import (
    Context,
    FloorInfo,
    FloorSummary,
    SpaceAvailability,
    SpaceInfo,
    combine,
    summarize_floor,
)
from backend.availability.sites import SiteLinks
from contract.bridge import is_bridge_state_topic

log = logging.getLogger(__name__)

#: Queue marker that ends a stream (server shutting down); None asks for a resync.
CLOSE = ""


def now_ms() -> int:
    """Return wall-clock time in ms, the unit of the contract's timestamps."""
    return int(time.time() * 1000)


def sse_frame(event: str, data: dict[str, Any]) -> str:
    """Encode one server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@dataclass(eq=False)
class StreamClient:
    """One connected screen: its filter and its bounded queue of SSE frames."""

    site: str | None
    floor: str | None
    queue: asyncio.Queue[str | None]
    resyncs: int = 0
    sent: int = field(default=0)

    def matches(self, item: SpaceAvailability) -> bool:
        """Return True when the space belongs to this client's site and floor."""
        return (self.site is None or item.site == self.site) and (
            self.floor is None or item.floor == self.floor
        )


class AvailabilityHub:
    """Keeps the current availability view and pushes deltas to subscribed clients."""

    def __init__(
        self,
        live: LiveState,
        *,
        stale_after_s: float,
        queue_size: int = 64,
        clock_ms: Callable[[], int] = now_ms,
    ) -> None:
        self.live = live
        self.stale_after_ms = int(stale_after_s * 1000)
        self.queue_size = queue_size
        self.clock_ms = clock_ms
        self.spaces: dict[str, SpaceInfo] = {}
        self.floors: dict[str, FloorInfo] = {}
        self.view: dict[str, SpaceAvailability] = {}
        self.summaries: dict[str, FloorSummary] = {}
        self.clients: set[StreamClient] = set()
        #: space id -> (current booking's end ms or None, next booking's start ms or None)
        self.marks: dict[str, tuple[int | None, int | None]] = {}
        #: Bumped on every change of the view; query answers are cached per version.
        self.version = 0
        self.cache: dict[tuple[Any, ...], tuple[int, bytes]] = {}
        #: (ms at which a state is older than the age limit, space id), soonest first.
        self._stale_at: list[tuple[int, str]] = []
        #: Satellite sites' bridge links: a site whose link is down shows unknown.
        self.site_links = SiteLinks()

    @property
    def sites(self) -> set[str]:
        """Return the ids of every site that has floors."""
        return {floor.site for floor in self.floors.values()}

    def set_registry(self, spaces: Iterable[SpaceInfo], floors: Iterable[FloorInfo]) -> None:
        """Replace the registry (start-up and reloads); clients get a fresh snapshot."""
        new_spaces = {s.space_id: s for s in spaces}
        new_floors = {f.floor: f for f in floors}
        if new_spaces == self.spaces and new_floors == self.floors:
            return
        self.spaces, self.floors = new_spaces, new_floors
        self.view = {sid: item for sid, item in self.view.items() if sid in new_spaces}
        self.summaries = {}
        self.refresh(None, broadcast=False)
        for client in self.clients:
            self._resync(client)

    def update_marks(self, changes: dict[str, tuple[int | None, int | None] | None]) -> int:
        """Change the marks of some spaces (None: no mark any more); push what changed."""
        for sid, mark in changes.items():
            if mark is None:
                self.marks.pop(sid, None)
            else:
                self.marks[sid] = mark
        return self.refresh([sid for sid in changes if sid in self.spaces])

    def set_marks(self, marks: dict[str, tuple[int | None, int | None]]) -> int:
        """Replace the booking marks; recompute and push the spaces whose marks changed."""
        changed = {
            sid for sid in set(marks) | set(self.marks) if marks.get(sid) != self.marks.get(sid)
        }
        self.marks = marks
        return self.refresh([sid for sid in changed if sid in self.spaces])

    def on_message(self, topic: str, payload: bytes) -> None:
        """Apply one raw MQTT message and push what changed."""
        if is_bridge_state_topic(topic):
            site = self.site_links.handle_message(topic, payload, self.clock_ms())
            if site is not None:
                self.refresh([sid for sid, s in self.spaces.items() if s.site == site])
            return
        space_id = self.live.handle_message(topic, payload, self.clock_ms())
        if space_id == ALL_SPACES:
            self.refresh(None)
        elif space_id is not None:
            state = self.live.states.get(space_id)
            if state is not None:  # ``combine``'s age test is strict: stale 1 ms after the limit
                heapq.heappush(self._stale_at, (state.updated + self.stale_after_ms + 1, space_id))
            if space_id in self.spaces:
                self.refresh([space_id])

    def refresh_stale(self, *, apply: bool = True) -> int:
        """Recompute the spaces whose state reached the age limit since the last call.

        Cheap at every tick: only the due deadlines are looked at, not every space.
        ``apply=False`` only drops the due deadlines (a live gateway is known, so age
        does not count); they must be drained either way, or they would pile up.
        """
        now = self.clock_ms()
        due = set()
        while self._stale_at and self._stale_at[0][0] <= now:
            due.add(heapq.heappop(self._stale_at)[1])
        if not apply:
            return 0
        return self.refresh([sid for sid in due if sid in self.spaces])

    def on_connection(self, connected: bool) -> None:
        """Record the broker connection; every space turns unknown while it is lost."""
        if self.live.set_connected(connected, self.clock_ms()):
            self.refresh(None)

    def refresh(self, space_ids: Iterable[str] | None, *, broadcast: bool = True) -> int:
        """Recompute the given spaces (all when None); return how many changed."""
        ctx = Context(
            now_ms=self.clock_ms(),
            connected=self.live.connected,
            stale_after_ms=self.stale_after_ms,
            disconnected_ms=self.live.disconnected_ms,
            gateway=self.live.gateway,
            gateway_since=self.live.gateway_changed_ms,
        )
        changed: list[SpaceAvailability] = []
        for sid in self.spaces if space_ids is None else space_ids:
            booked_until, next_start = self.marks.get(sid, (None, None))
            item = combine(
                self.spaces[sid],
                self.live.states.get(sid),
                ctx,
                booked=booked_until is not None,
                until=booked_until if booked_until is not None else next_start,
            )
            item = self.site_links.overlay(item)
            if self.view.get(sid) != item:
                self.view[sid] = item
                changed.append(item)
        floors = {item.floor for item in changed} if self.summaries else set(self.floors)
        changed_floors = []
        for floor_id in floors:
            members = (i for i in self.view.values() if i.floor == floor_id)
            summary = summarize_floor(self.floors[floor_id], members)
            if self.summaries.get(floor_id) != summary:
                self.summaries[floor_id] = summary
                changed_floors.append(summary)
        if changed or changed_floors:
            self.version += 1
        if broadcast and (changed or changed_floors):
            self._broadcast(changed, changed_floors)
        return len(changed)

    def snapshot(self, site: str | None = None, floor: str | None = None) -> dict[str, Any]:
        """Return the full view of one site/floor plus every floor's counts."""
        probe = StreamClient(site, floor, asyncio.Queue())
        spaces = [asdict(i) for i in sorted(self.view.values(), key=_order) if probe.matches(i)]
        floors = sorted(self.summaries.values(), key=lambda f: (f.site, f.level, f.floor))
        return {
            "site": site,
            "floor": floor,
            "connected": self.live.connected,
            "gateway": self.live.gateway,
            "generated": self.clock_ms(),
            "stale_after_s": self.stale_after_ms / 1000,
            "spaces": spaces,
            "floors": [asdict(f) for f in floors],
        }

    def subscribe(self, site: str | None, floor: str | None) -> StreamClient:
        """Register a client; the caller sends it a snapshot right away."""
        client = StreamClient(site, floor, asyncio.Queue(maxsize=self.queue_size))
        self.clients.add(client)
        return client

    def unsubscribe(self, client: StreamClient) -> None:
        """Forget a client that went away."""
        self.clients.discard(client)

    def close_all(self) -> None:
        """End every stream (before a server shutdown, which waits for open responses)."""
        for client in self.clients:
            while not client.queue.empty():
                client.queue.get_nowait()
            client.queue.put_nowait(CLOSE)

    def _broadcast(self, items: list[SpaceAvailability], floors: list[FloorSummary]) -> None:
        floor_dicts = [asdict(f) for f in floors]
        frames: dict[tuple[str | None, str | None], str | None] = {}
        for client in self.clients:
            key = (client.site, client.floor)
            if key not in frames:
                mine = [asdict(i) for i in items if client.matches(i)]
                frames[key] = None
                if mine or floor_dicts:
                    data = {
                        "connected": self.live.connected,
                        "gateway": self.live.gateway,
                        "generated": self.clock_ms(),
                        "spaces": mine,
                        "floors": floor_dicts,
                    }
                    frames[key] = sse_frame("delta", data)
            frame = frames[key]
            if frame is None:
                continue
            try:
                client.queue.put_nowait(frame)
            except asyncio.QueueFull:
                self._resync(client)

    def _resync(self, client: StreamClient) -> None:
        while not client.queue.empty():
            client.queue.get_nowait()
        client.queue.put_nowait(None)
        client.resyncs += 1
        log.info("sse: client %s/%s fell behind, resending a snapshot", client.site, client.floor)


def _order(item: SpaceAvailability) -> tuple[str, str, str]:
    return (item.site, item.floor, item.space_id)
