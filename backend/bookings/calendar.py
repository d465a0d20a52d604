"""iCalendar output: a feed per person, a feed per room, and a booking confirmation.

Room feeds show that a room is taken, never by whom: a room's calendar is read
by screens and colleagues, and bookings are the only person-linked data we keep.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from icalendar import Calendar, Event

from backend.bookings.models import Booking

PRODID = "-//Werkplek//Booking//NL"


def _calendar(name: str, method: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    if method:
        cal.add("method", method)
    return cal


def _event(booking: Booking, space_name: str, *, private: bool, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", f"booking-{booking.id}@werkplek")
    event.add("dtstamp", stamp)
    event.add("dtstart", booking.start_at)
    event.add("dtend", booking.end_at)
    if private:
        event.add("summary", f"{booking.title or 'Werkplek'}: {space_name}")
        if booking.guest_name:
            event.add("description", f"Gast / guest: {booking.guest_name}")
    else:
        event.add("summary", "Bezet / Booked")
        event.add("class", "PRIVATE")
    event.add("location", space_name)
    cancelled = booking.status in ("cancelled", "released")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def feed(
    name: str,
    bookings: Iterable[tuple[Booking, str]],
    *,
    private: bool,
    stamp: datetime,
) -> bytes:
    """Encode bookings (with their space names) as a calendar feed."""
    cal = _calendar(name)
    for booking, space_name in bookings:
        cal.add_component(_event(booking, space_name, private=private, stamp=stamp))
    return bytes(cal.to_ical())


def confirmation(booking: Booking, space_name: str, stamp: datetime) -> bytes:
    """Encode one booking as an iTIP ``PUBLISH`` message calendar clients import."""
    cal = _calendar("Werkplek", method="PUBLISH")
    cal.add_component(_event(booking, space_name, private=True, stamp=stamp))
    return bytes(cal.to_ical())
