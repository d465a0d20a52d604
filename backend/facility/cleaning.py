"""The cleaning list: spaces used since their last cleaning (clean them) and not used (skip them).

:func:`cleaning_list` is the pure figure from raw presence points; :func:`cleaning_report`
gathers them per time zone, so each site's day runs from its own local midnight
(``Site.timezone``), and applies the cleaning marks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from backend.errors import NotFound
from backend.facility import queries
from backend.facility.models import CleaningMark
from backend.facility.opening import DEFAULT_TZ, distinct_zones, span_ms
from backend.spaces.models import Space
from history.base import PresencePoint
from history.facility import HistorySource

#: Kinds cleaned after each use rather than after a day's total.
ROOM_KINDS = frozenset({"meeting_room", "focus_room"})


@dataclass(frozen=True, slots=True)
class CleaningEntry:
    """One space on the cleaning list, counted since its last cleaning (or the day's start).

    ``uses`` counts occupied stretches of at least the room threshold (rooms are
    cleaned after each such use); ``clean`` says whether the space needs a visit.
    """

    site: str
    floor: str
    space: str
    kind: str
    occupied_minutes: float
    uses: int
    last_cleaned_ms: int | None
    clean: bool


def _occupied_stretches(rows: list[PresencePoint], lo: int, hi: int) -> list[tuple[int, int]]:
    """Occupied intervals of one space clipped to ``[lo, hi)``.

    A state holds until the next point, the last one until ``hi``; a point
    before ``lo`` gives the state at ``lo``.
    """
    out: list[tuple[int, int]] = []
    for here, after in zip(rows, [*rows[1:], None], strict=True):
        start = max(here.time_ms, lo)
        stop = min(after.time_ms if after is not None else max(hi, here.time_ms), hi)
        if not here.occupied or stop <= start:
            continue
        if out and out[-1][1] == start:  # a heartbeat inside one stretch
            out[-1] = (out[-1][0], stop)
        else:
            out.append((start, stop))
    return out


def cleaning_list(
    points: Sequence[PresencePoint],
    start_ms: int,
    end_ms: int,
    *,
    min_minutes: float,
    room_min_minutes: float,
    cleaned: Mapping[str, int] | None = None,
) -> list[CleaningEntry]:
    """Spaces to clean and to skip, from raw points since each space's last cleaning.

    Desks: occupied at least ``min_minutes`` in all. Rooms: at least one use of
    ``room_min_minutes`` or more. ``cleaned`` maps a space to its last mark (ms);
    only presence after it counts.
    """
    marks = cleaned or {}
    by_space: dict[str, list[PresencePoint]] = defaultdict(list)
    for point in points:
        if point.space:
            by_space[point.space].append(point)
    out = []
    for space, rows in sorted(by_space.items()):
        rows.sort(key=lambda p: p.time_ms)
        since = max(start_ms, marks.get(space, start_ms))
        stretches = _occupied_stretches(rows, since, end_ms)
        minutes = sum(b - a for a, b in stretches) / 60_000
        uses = sum(1 for a, b in stretches if (b - a) / 60_000 >= room_min_minutes)
        last = rows[-1]
        kind = last.kind or ""
        dirty = uses > 0 if kind in ROOM_KINDS else minutes >= min_minutes
        out.append(
            CleaningEntry(
                site=last.site,
                floor=last.floor or "",
                space=space,
                kind=kind,
                occupied_minutes=round(minutes, 2),
                uses=uses,
                last_cleaned_ms=marks.get(space),
                clean=dirty,
            )
        )
    return out


def local_today(now: datetime, zones: Sequence[ZoneInfo]) -> date:
    """The earliest local date of ``zones`` at ``now`` (no site's day has ended yet)."""
    return min(
        (now.astimezone(tz).date() for tz in zones), default=now.astimezone(DEFAULT_TZ).date()
    )


@dataclass(frozen=True, slots=True)
class CleaningReport:
    """The list of one day: ``live`` when it is today's list, counted up to now."""

    day: date
    live: bool
    entries: list[CleaningEntry]


def cleaning_report(
    session: Session,
    source: HistorySource,
    site_tz: Mapping[str, ZoneInfo],
    *,
    now: datetime,
    day: date | None,
    site: str | None,
    floor: str | None,
    min_minutes: float,
    room_min_minutes: float,
) -> CleaningReport:
    """The cleaning list of ``day`` (today without one), each site on its own local day.

    Points are read per time zone of the sites (the default zone too: history of
    a space not in the registry), each zone's day from its own midnight; a
    space's points count for the zone of its site only.
    """
    if site is not None:
        wanted = [site_tz.get(site, DEFAULT_TZ)]
        today = now.astimezone(wanted[0]).date()
    else:
        wanted = distinct_zones(site_tz.values())
        today = local_today(now, list(site_tz.values()))
    now_ms = int(now.timestamp() * 1000)
    entries: list[CleaningEntry] = []
    for tz in wanted:
        local_day = day or now.astimezone(tz).date()
        lo, hi = span_ms(local_day, local_day, (tz,))
        end = min(hi, now_ms)
        points = source.raw_points(lo, hi)
        mine = [p for p in points if site_tz.get(p.site, DEFAULT_TZ).key == tz.key]
        entries += cleaning_list(
            mine, lo, end, min_minutes=min_minutes, room_min_minutes=room_min_minutes,
            cleaned=queries.last_marks(session, lo, end),
        )  # fmt: skip
    entries = [
        e for e in entries
        if (site is None or e.site == site) and (floor is None or e.floor == floor)
    ]  # fmt: skip
    return CleaningReport(day or today, day is None or day == today, entries)


def mark_cleaned(session: Session, space_id: str, role: str, now: datetime) -> CleaningMark:
    """Record that ``space_id`` was cleaned now; the mark keeps the role, never the person."""
    space = session.get(Space, space_id)
    if space is None:
        raise NotFound(f"no space {space_id!r}", reason="space_not_found")
    mark = CleaningMark(space_id=space.id, site_id=space.site_id, cleaned_at=now, role=role)
    session.add(mark)
    session.commit()
    return mark
