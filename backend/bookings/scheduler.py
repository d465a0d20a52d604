"""The booking scheduler: sensor check-in, release of no-shows and empty rooms, retention.

It runs inside every backend replica. Safety with several replicas comes from the
transitions, not from a leader: each change is a conditional update that only
one replica can win (see ``service.transition``), so a booking is never released
twice and the audit log has one record per change.

Never release on bad data: only a fresh ``vacant`` state counts as evidence that
nobody came. An offline, stale or missing sensor turns the booking into a manual
check-in booking (``sensor_fallback``); it is not released by the sensor.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.bookings import policy as policies
from backend.bookings.marks import HORIZON_H
from backend.bookings.models import ACTIVE, Booking, SitePolicy
from backend.bookings.service import transition

# The retention job lives with the data inventory; re-exported for the runtime and tests.
from backend.privacy.retention import RetentionResult as RetentionResult
from backend.privacy.retention import run_retention as run_retention

ACTOR = "system:scheduler"


@dataclass(frozen=True, slots=True)
class SensorView:
    """What the live view says about a space: ``occupied``, ``vacant`` or ``unknown``."""

    state: str
    since: datetime | None


@dataclass
class TickResult:
    """What one scheduler run changed (booking ids)."""

    checked_in: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    fallback: list[int] = field(default_factory=list)
    spaces: set[str] = field(default_factory=set)


def _decide(
    booking: Booking, view: SensorView | None, rules: SitePolicy, now: datetime
) -> str | None:
    if view is None or view.state not in ("occupied", "vacant"):
        return "fallback" if booking.status == "booked" and not booking.sensor_fallback else None
    if view.state == "occupied":
        return "check_in" if booking.status == "booked" else None
    since = view.since or now
    if booking.status == "booked":
        grace = rules.desk_grace_s if booking.space_kind == "desk" else rules.room_grace_s
        # Grace counts from when the sensor could be trusted: a sensor that came back
        # mid-booking gets a full grace period before it may release anything.
        if now >= max(booking.start_at, since) + timedelta(seconds=grace):
            return "no_show"
    elif booking.space_kind != "desk" and booking.checked_in_at is not None:
        empty_from = max(booking.checked_in_at, since)
        if now >= empty_from + timedelta(seconds=rules.room_empty_release_s):
            return "empty_early"
    return None


def run_once(
    factory: sessionmaker[Session], now: datetime, views: Mapping[str, SensorView]
) -> TickResult:
    """Apply sensor evidence to every booking running now; return what changed."""
    result = TickResult()
    with factory() as session:
        running = session.scalars(
            select(Booking).where(
                Booking.status.in_(ACTIVE), Booking.start_at <= now, Booking.end_at > now
            )
        ).all()
        rules = {sid: policies.get_policy(session, sid) for sid in {b.site_id for b in running}}
    for booking in running:
        decision = _decide(booking, views.get(booking.space_id), rules[booking.site_id], now)
        if decision is None:
            continue
        with factory() as session:
            if decision == "check_in":
                done = transition(
                    session, booking.id, ("booked",), actor=ACTOR, action="booking.check_in",
                    at=now, status="checked_in", checked_in_at=now, check_in_method="sensor",
                )  # fmt: skip
                bucket = result.checked_in
            elif decision == "fallback":
                done = transition(
                    session, booking.id, ("booked",), actor=ACTOR, action="booking.sensor_fallback",
                    at=now, sensor_fallback=True,
                )  # fmt: skip
                bucket = result.fallback
            else:
                # Only from the status the decision was made on: a person who checks in
                # between the read above and this update keeps the booking (no_show was
                # decided on "booked", empty_early on "checked_in").
                premise = ("booked",) if decision == "no_show" else ("checked_in",)
                done = transition(
                    session, booking.id, premise, actor=ACTOR, action="booking.release",
                    at=now, status="released", ended_at=now, end_reason=decision,
                )  # fmt: skip
                bucket = result.released
        if done:
            bucket.append(booking.id)
            result.spaces.add(booking.space_id)
    return result


@dataclass(frozen=True, slots=True)
class BookingMark:
    """Booking facts availability shows: the current booking's end, the next start."""

    booked_until: datetime | None
    next_start: datetime | None


def load_marks(
    session: Session,
    now: datetime,
    horizon_h: float = HORIZON_H,
    spaces: Collection[str] | None = None,
) -> dict[str, BookingMark]:
    """Return, per space with an active booking now or within the horizon, its mark.

    ``spaces`` limits the read to those spaces (after a change of their bookings).
    """
    query = select(Booking.space_id, Booking.start_at, Booking.end_at).where(
        Booking.status.in_(ACTIVE),
        Booking.end_at > now,
        Booking.start_at < now + timedelta(hours=horizon_h),
    )
    if spaces is not None:
        query = query.where(Booking.space_id.in_(sorted(spaces)))
    rows = session.execute(query.order_by(Booking.start_at)).all()
    current: dict[str, datetime] = {}
    upcoming: dict[str, datetime] = {}
    for space_id, start, end in rows:
        if start <= now:
            current[space_id] = end
        else:
            upcoming.setdefault(space_id, start)
    return {
        sid: BookingMark(current.get(sid), upcoming.get(sid))
        for sid in set(current) | set(upcoming)
    }


def utc_from_ms(ms: int | None) -> datetime | None:
    """Convert contract milliseconds to an aware datetime."""
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)
