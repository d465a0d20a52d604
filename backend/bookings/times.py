"""Local time of a site: day parts, opening hours and the daylight-saving traps.

All stored times are UTC; people think in the site's wall-clock time. Two local
times are dangerous on the days the clocks change (Europe/Amsterdam: last Sunday
of March 02:00 -> 03:00, last Sunday of October 03:00 -> 02:00):

* a wall-clock time that does not exist (02:30 in March) is refused;
* a wall-clock time that happens twice (02:30 in October) is refused unless the
  client sends an explicit UTC offset, which says which of the two it means.

Durations are real elapsed time, so a night booking over the October change is an
hour longer than the clock suggests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backend.errors import InvalidInput

#: Day parts in local time; "day" is the whole opening time.
MIDDAY = time(12, 30)
DAY_PARTS = ("morning", "afternoon", "day")
#: Opening hours of a site without its own (Monday to Friday).
DEFAULT_OPENS, DEFAULT_CLOSES = time(7, 0), time(19, 0)


def zone(name: str) -> ZoneInfo:
    """Return the time zone of a site, or raise InvalidInput for an unknown name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {name!r}", reason="bad_timezone") from exc


def localize(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """Attach ``tz`` to a wall-clock time, refusing times that do not exist or are ambiguous.

    Raises:
        InvalidInput: ``nonexistent_local_time`` or ``ambiguous_local_time``.
    """
    naive = datetime.combine(day, clock)
    early = naive.replace(tzinfo=tz, fold=0)
    late = naive.replace(tzinfo=tz, fold=1)
    # A time that does not exist does not survive a round trip through UTC.
    if early.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise InvalidInput(
            f"{naive:%Y-%m-%d %H:%M} does not exist in {tz.key} (the clocks go forward)",
            reason="nonexistent_local_time",
        )
    if early.utcoffset() != late.utcoffset():
        raise InvalidInput(
            f"{naive:%Y-%m-%d %H:%M} happens twice in {tz.key} (the clocks go back); "
            "send the time with its UTC offset",
            reason="ambiguous_local_time",
        )
    return early


def to_utc(value: datetime, tz: ZoneInfo) -> datetime:
    """Return ``value`` in UTC; a naive value is wall-clock time of the site."""
    if value.tzinfo is None:
        return localize(value.date(), value.time(), tz).astimezone(UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class OpenTime:
    """When a site is open on one local day; ``None`` fields mean closed."""

    day: date
    opens: datetime | None
    closes: datetime | None
    closed_reason: str | None = None

    @property
    def is_open(self) -> bool:
        """Return True when the site opens at all on this day."""
        return self.opens is not None and self.closes is not None


def open_time(
    day: date,
    tz: ZoneInfo,
    hours: dict[int, tuple[time, time]] | None,
    holidays: dict[date, str],
) -> OpenTime:
    """Resolve the opening time of one local day (weekday hours minus holidays)."""
    if day in holidays:
        return OpenTime(day, None, None, f"holiday: {holidays[day]}")
    table = hours if hours is not None else dict.fromkeys(range(5), (DEFAULT_OPENS, DEFAULT_CLOSES))
    if day.weekday() not in table:
        return OpenTime(day, None, None, "closed on this weekday")
    opens, closes = table[day.weekday()]
    return OpenTime(day, localize(day, opens, tz), localize(day, closes, tz))


def day_part(span: OpenTime, part: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Return the UTC start and end of a day part on an open day.

    Raises:
        InvalidInput: unknown part, closed day, or a part with no opening time.
    """
    if part not in DAY_PARTS:
        raise InvalidInput(f"part must be one of {DAY_PARTS}", reason="bad_day_part")
    if span.opens is None or span.closes is None:
        raise InvalidInput(
            f"the site is closed on {span.day.isoformat()} ({span.closed_reason})",
            reason="site_closed",
        )
    midday = localize(span.day, MIDDAY, tz)
    start = span.opens if part in ("morning", "day") else max(span.opens, midday)
    end = span.closes if part in ("afternoon", "day") else min(span.closes, midday)
    if end <= start:
        raise InvalidInput(f"the site is not open in the {part}", reason="site_closed")
    return start.astimezone(UTC), end.astimezone(UTC)


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    """Return the site-local calendar day of a moment."""
    return moment.astimezone(tz).date()


def minutes(start: datetime, end: datetime) -> float:
    """Return the real elapsed minutes between two aware datetimes."""
    return (end - start) / timedelta(minutes=1)
