"""Bookings of desks and rooms: site policies, check-in, release of no-shows, calendars."""
