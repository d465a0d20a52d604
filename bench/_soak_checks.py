"""The end checks of the soak: exactly-once history, booking releases, recovery, push, memory.

"Sent" for QoS 1 across broker kills: a presence message counts as sent once the
publisher got its PUBACK; each of those must be in InfluxDB exactly once (by
device and seq). A message never acked may have been lost with the broker or
resent by the client, so it may be stored once or not at all, never twice.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from tests.services import InfluxDB


@dataclass
class HistoryCheck:
    """Presence messages against the points in InfluxDB."""

    acked: int = 0
    unacked: int = 0
    stored: int = 0
    missing: list[tuple[str, int]] = field(default_factory=list)  # acked, not stored
    duplicated: list[tuple[str, int, int]] = field(default_factory=list)  # stored > once
    unknown: list[tuple[str, int]] = field(default_factory=list)  # stored, never sent
    unacked_stored: int = 0
    #: Points stored without their space: a gateway that stored presence before it
    #: knew the device's registry record (the restart race of issue 14).
    untagged: int = 0

    @property
    def ok(self) -> bool:
        """Every acked message exactly once, each with its space; nothing twice or from nowhere."""
        return not (self.missing or self.duplicated or self.unknown or self.untagged)


def stored_seqs(influx: InfluxDB, database: str, devices: list[str]) -> dict[str, list[int]]:
    """The ``seq`` of every presence point per device, read in batches of 100 devices."""
    out: dict[str, list[int]] = {d: [] for d in devices}
    prefixes = sorted({d[:-2] for d in devices})
    for prefix in prefixes:
        q = f"SELECT seq FROM presence WHERE device =~ /^{prefix}[0-9][0-9]$/ GROUP BY device"
        result: Any = influx.query(q, db=database)
        body = result["results"][0]
        if body.get("partial") or "error" in body:
            raise RuntimeError(f"InfluxDB answered {str(body)[:300]}")
        for series in body.get("series") or []:
            out.setdefault(series["tags"]["device"], []).extend(
                int(row[1]) for row in series["values"]
            )
    return out


def untagged_points(influx: InfluxDB, database: str) -> int:
    """How many presence points carry no space tag (every soak device is registered)."""
    result: Any = influx.query("SELECT count(seq) FROM presence WHERE space = ''", db=database)
    body = result["results"][0]
    if body.get("partial") or "error" in body:
        raise RuntimeError(f"InfluxDB answered {str(body)[:300]}")
    series = body.get("series") or []
    return int(series[0]["values"][0][1]) if series else 0


def check_history(sent: dict[str, dict[str, int]], stored: dict[str, list[int]]) -> HistoryCheck:
    """Compare what was sent (seq -> acked) with what is stored, per device."""
    check = HistoryCheck()
    for device, seqs in sent.items():
        counts: dict[int, int] = {}
        for seq in stored.get(device, []):
            counts[seq] = counts.get(seq, 0) + 1
        check.stored += sum(counts.values())
        for raw, acked in seqs.items():
            seq, n = int(raw), counts.pop(int(raw), 0)
            if acked:
                check.acked += 1
                if n == 0:
                    check.missing.append((device, seq))
            else:
                check.unacked += 1
                check.unacked_stored += n > 0
            if n > 1:
                check.duplicated.append((device, seq, n))
        check.unknown.extend((device, seq) for seq in counts)
    return check


#: Sensor roles whose desks may be released as no-shows: a fresh vacant sensor all
#: along, and a person who tried to check in by hand only after the grace period.
RELEASABLE = ("noshow", "checkin_late")


@dataclass
class BookingCheck:
    """Bookings by the role of their desk's sensor, and what the scheduler did to them."""

    by_role: dict[str, dict[str, int]] = field(default_factory=dict)
    released_twice: list[int] = field(default_factory=list)
    wrongly_released: list[tuple[int, str, str]] = field(default_factory=list)
    noshow_left: list[int] = field(default_factory=list)

    @property
    def released(self) -> int:
        """No-show releases done (the path under test was exercised)."""
        return self.by_role.get("noshow", {}).get("released", 0)

    @property
    def ok(self) -> bool:
        """None released twice, none released whose sensor was not a fresh vacant one."""
        return not (self.released_twice or self.wrongly_released)


def check_bookings(db_url: str, roles: dict[str, str], settled_before: float) -> BookingCheck:
    """Read every booking and its release records from PostgreSQL.

    ``roles`` maps a space to its node's role; only :data:`RELEASABLE` desks may
    be released. ``settled_before``: no-show
    bookings that started before it should have been released by now.
    """
    from sqlalchemy import func, select

    from backend.bookings.models import Booking
    from backend.database import make_engine, make_session_factory
    from backend.people.models import AuditLog

    check = BookingCheck()
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            releases = dict(
                session.execute(
                    select(AuditLog.object_id, func.count())
                    .where(AuditLog.action == "booking.release", AuditLog.object_type == "booking")
                    .group_by(AuditLog.object_id)
                ).all()
            )
            for b in session.scalars(select(Booking)).all():
                role = roles.get(b.space_id, "?")
                tally = check.by_role.setdefault(role, {})
                tally[b.status] = tally.get(b.status, 0) + 1
                if releases.get(str(b.id), 0) > 1:
                    check.released_twice.append(b.id)
                may_go = role in RELEASABLE and b.end_reason == "no_show"
                if b.status == "released" and not may_go:
                    check.wrongly_released.append((b.id, role, str(b.end_reason)))
                started = b.start_at.timestamp()
                if role == "noshow" and b.status != "released" and started < settled_before:
                    check.noshow_left.append(b.id)
    finally:
        engine.dispose()
    return check


@dataclass
class Restart:
    """One kill -9 and restart, and how long every screen took to get live data again."""

    service: str
    killed: float
    up: float
    screens_live_s: float | None = None  # from up to the last screen's fresh probe state
    screens_missing: int = 0


def recovery(restarts: list[Restart], seen: list[list[Any]], screens: int) -> None:
    """Fill each restart's screen recovery from the probe states the screens received.

    A screen is back on live data when it receives a probe state whose change
    (``since``) happened after the service was up again.
    """
    for r in restarts:
        first: dict[int, float] = {}
        for screen, at, since, _state, _kind in seen:
            if since is not None and since / 1000 >= r.up and at >= r.up:
                if screen not in first or at < first[screen]:
                    first[screen] = at
        r.screens_missing = screens - len(first)
        r.screens_live_s = max(first.values()) - r.up if first else None


def push_rounds(
    seen: list[list[Any]], restarts: list[Restart], start: float, end: float, rounds: int
) -> list[float]:
    """p99 (seconds) of probe change -> screen per round; deltas only, outside recoveries.

    A round is an equal slice of the run; the 20 s after each kill are left out
    (they are the recovery, reported apart).
    """
    quiet = [(r.killed, r.up + 20) for r in restarts]
    width = (end - start) / rounds
    buckets: list[list[float]] = [[] for _ in range(rounds)]
    firsts: set[tuple[int, int]] = set()
    for screen, at, since, _state, kind in seen:
        if kind != "delta" or since is None or (screen, since) in firsts:
            continue
        firsts.add((screen, since))
        sent = since / 1000
        if any(a <= sent <= b for a, b in quiet) or not start <= sent < end:
            continue
        buckets[min(rounds - 1, int((sent - start) / width))].append(at - sent)
    return [_p99(b) for b in buckets if len(b) >= 20]


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def memory_growth(samples: list[tuple[float, int]], since: float) -> tuple[float, int, int] | None:
    """Growth of one service's memory from ``since`` to the end: (fraction, first, last KiB).

    First and last are medians of the first and last fifth of the samples, so one
    garbage-collection peak does not decide it.
    """
    window = [kib for at, kib in samples if at >= since]
    if len(window) < 10:
        return None
    fifth = max(2, len(window) // 5)
    first, last = statistics.median(window[:fifth]), statistics.median(window[-fifth:])
    return (last - first) / first, int(first), int(last)
