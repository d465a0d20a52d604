"""Every SQL read of the facility reports: bookings, spaces, cleaning marks, site zones.

Only queries live here (no figures): the services in :mod:`backend.facility.reports`,
:mod:`backend.facility.cleaning` and :mod:`backend.facility.forecast` combine them
with the history store. Every answer is already grouped or per space, never per
person: the booking columns read are site, space, kind, day, times and status.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.bookings.models import Booking
from backend.facility.models import CleaningMark
from backend.facility.opening import zone_of
from backend.facility.usage import BookingFact
from backend.spaces.models import Site, Space

#: (site, floor, zone)
ZoneKey = tuple[str, str, str]
#: Statuses of a booking somebody is still expected for.
EXPECTED = ("booked", "checked_in")


def site_zones(session: Session) -> dict[str, ZoneInfo]:
    """Every site's own time zone (an unknown name falls back to the default, logged)."""
    return {
        str(site): zone_of(name, str(site))
        for site, name in session.execute(select(Site.id, Site.timezone)).all()
    }


def last_marks(session: Session, start_ms: int, end_ms: int) -> dict[str, int]:
    """Each space's last cleaning mark in ``[start, end)`` as epoch ms."""
    lo = datetime.fromtimestamp(start_ms / 1000, UTC)
    hi = datetime.fromtimestamp(end_ms / 1000, UTC)
    rows = session.execute(
        select(CleaningMark.space_id, func.max(CleaningMark.cleaned_at))
        .where(CleaningMark.cleaned_at >= lo, CleaningMark.cleaned_at < hi)
        .group_by(CleaningMark.space_id)
    ).all()
    return {str(space): int(moment.timestamp() * 1000) for space, moment in rows}


def booking_facts(session: Session, start: date, end: date) -> list[BookingFact]:
    """What booked-versus-used needs of every booking not cancelled on the sites' local days."""
    rows = session.execute(
        select(
            Booking.site_id, Booking.space_kind, Booking.space_id, Booking.local_day,
            Booking.status, Booking.end_reason, Booking.checked_in_at,
        )
        .where(Booking.status != "cancelled")
        .where(Booking.local_day >= start, Booking.local_day <= end)
    ).all()  # fmt: skip
    return [
        BookingFact(
            site=str(r[0]), kind=str(r[1]), space=str(r[2]), day=r[3],
            checked_in=r[4] == "checked_in" or r[6] is not None,
            no_show=r[4] == "released" and r[5] == "no_show", released=r[4] == "released",
        )
        for r in rows
    ]  # fmt: skip


def quiet_supply(session: Session) -> dict[str, int]:
    """Quiet desks per site."""
    return {
        str(site): int(n)
        for site, n in session.execute(
            select(Space.site_id, func.count())
            .where(Space.kind == "desk", Space.quiet.is_(True))
            .group_by(Space.site_id)
        ).all()
    }


def quiet_booked(session: Session, start: date, end: date) -> dict[tuple[str, date], int]:
    """Quiet desks booked (not cancelled) per site and local day."""
    return {
        (str(site), day): int(n)
        for site, day, n in session.execute(
            select(Booking.site_id, Booking.local_day, func.count())
            .join(Space, Space.id == Booking.space_id)
            .where(Space.kind == "desk", Space.quiet.is_(True), Booking.status != "cancelled")
            .where(Booking.local_day >= start, Booking.local_day <= end)
            .group_by(Booking.site_id, Booking.local_day)
        ).all()
    }


def no_show_counts(session: Session, start: date, end: date) -> list[tuple[str, str, bool, int]]:
    """``(site, kind, released as no-show, bookings)`` of the bookings not cancelled."""
    no_show = (Booking.status == "released") & (Booking.end_reason == "no_show")
    rows = session.execute(
        select(Booking.site_id, Booking.space_kind, no_show, func.count())
        .where(Booking.status != "cancelled")
        .where(Booking.local_day >= start, Booking.local_day <= end)
        .group_by(Booking.site_id, Booking.space_kind, no_show)
    ).all()
    return [(str(r[0]), str(r[1]), bool(r[2]), int(r[3])) for r in rows]


def zone_sizes(session: Session) -> dict[ZoneKey, int]:
    """Spaces per zone (spaces without a zone belong to none and are left out)."""
    return {
        (str(site), str(floor), str(zone)): int(n)
        for site, floor, zone, n in session.execute(
            select(Space.site_id, Space.floor_id, Space.zone, func.count())
            .where(Space.zone.is_not(None))
            .group_by(Space.site_id, Space.floor_id, Space.zone)
        ).all()
    }


class BookedStretch(NamedTuple):
    """One expected booking of a zoned space: where and from when to when (UTC)."""

    zone: ZoneKey
    start_at: datetime
    end_at: datetime


def booked_stretches(session: Session, day: date) -> list[BookedStretch]:
    """Bookings still expected on the sites' local ``day`` in spaces with a zone."""
    rows = session.execute(
        select(Space.site_id, Space.floor_id, Space.zone, Booking.start_at, Booking.end_at)
        .join(Space, Space.id == Booking.space_id)
        .where(Booking.local_day == day, Booking.status.in_(EXPECTED), Space.zone.is_not(None))
    ).all()
    return [
        BookedStretch((str(site), str(floor), str(zone)), start_at, end_at)
        for site, floor, zone, start_at, end_at in rows
    ]


def sites(session: Session, ids: Iterable[str] | None = None) -> list[str]:
    """Site ids, sorted (only those of ``ids`` when given)."""
    query = select(Site.id).order_by(Site.id)
    if ids is not None:
        query = query.where(Site.id.in_(list(ids)))
    return [str(site) for site in session.scalars(query).all()]
