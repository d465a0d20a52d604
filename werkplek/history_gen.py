"""A synthetic month (or any span) of presence history, written through the history stores.

Each day follows :func:`werkplek.workday.plan_day`; a node reports every change
at its moment (occupied at an interval's start, vacant at its end) and a
heartbeat every ``heartbeat_s`` during the working day, as the firmware does.
Tests compute expected figures from the same plan, never from this output.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from history.base import HistoryStore, PresencePoint
from werkplek.workday import Interval, SpaceSpec, is_present, plan_day

TZ = ZoneInfo("Europe/Amsterdam")
#: Heartbeats run from 07:00 to 20:00 local; plan_day never plans presence outside.
DAY_START_S = 7 * 3600
DAY_END_S = 20 * 3600


@dataclass(frozen=True, slots=True)
class PlacedSpace:
    """A simulated space and where it is; ``tz`` is its site's zone (its working day is local)."""

    spec: SpaceSpec
    site: str
    floor: str
    zone: str
    tz: ZoneInfo = TZ


def midnight_ms(day: date, tz: ZoneInfo = TZ) -> int:
    """Epoch milliseconds of local midnight of ``day``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp() * 1000)


def day_points(
    space: PlacedSpace, day: date, intervals: list[Interval], heartbeat_s: int
) -> Iterator[PresencePoint]:
    """The points one node reports on one day, oldest first."""
    base = midnight_ms(day, space.tz)
    moments: dict[float, bool] = {}
    for beat in range(DAY_START_S, DAY_END_S + 1, heartbeat_s):
        moments[float(beat)] = is_present(intervals, beat)
    for part in intervals:  # every change is reported at its own moment
        moments[part.start] = True
        moments[part.end] = is_present(intervals, part.end)
    seq = 0
    for second in sorted(moments):
        seq += 1
        yield PresencePoint(
            site=space.site,
            device=f"node-{space.spec.space_id}",
            time_ms=base + int(second * 1000),
            occupied=moments[second],
            seq=seq,
            boot=int(base // 1000),
            source="fused",
            clock_corrected=False,
            space=space.spec.space_id,
            kind=space.spec.kind,
            floor=space.floor,
            zone=space.zone,
        )


def generate(
    store: HistoryStore,
    spaces: Sequence[PlacedSpace],
    first_day: date,
    days: int,
    *,
    seed: int = 0,
    heartbeat_s: int = 300,
    batch: int = 20_000,
) -> dict[date, dict[str, list[Interval]]]:
    """Write ``days`` days of history for ``spaces`` and return the plan that produced it."""
    plans: dict[date, dict[str, list[Interval]]] = {}
    pending: list[PresencePoint] = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        plan = plan_day([s.spec for s in spaces], day, seed)
        plans[day] = plan
        for space in spaces:
            pending.extend(day_points(space, day, plan[space.spec.space_id], heartbeat_s))
            if len(pending) >= batch:
                store.write_points(pending)
                pending = []
    if pending:
        store.write_points(pending)
    return plans
