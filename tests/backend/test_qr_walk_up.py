"""Scanning the QR code of a free desk books it for the rest of today and checks in at once.

Against the real backend on SQLite and PostgreSQL: the walk-up goes through the same
booking rules as the app (one desk per day, the overlap constraint, opening hours).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.backend.conftest import always_open, bearer
from tests.backend.test_bookings_api import clear_of_midnight
from tests.backend.test_check_in import book

pytestmark = pytest.mark.integration
AMS = ZoneInfo("Europe/Amsterdam")


def scan(base_url: str, token: str, space_id: str) -> httpx.Response:
    return httpx.post(
        f"{base_url}/api/v1/spaces/{space_id}/check-in", headers=bearer(token), timeout=30
    )


def test_scan_at_a_free_desk_books_and_checks_in(seeded, serve, people):
    clear_of_midnight()  # the rest of today must be more than nothing
    always_open(seeded.url)
    backend = serve(seeded.settings())
    ann = people("employee", "ann")
    answer = scan(backend.base_url, ann.token, "hq.1.d-012")
    assert answer.status_code == 200, answer.text
    booking = answer.json()
    assert booking["space_id"] == "hq.1.d-012" and booking["user_id"] == ann.id
    assert booking["status"] == "checked_in" and booking["check_in_method"] == "qr"
    # The rest of today: from about now until closing (23:59 with these opening hours).
    end = datetime.fromisoformat(booking["end_at"]).astimezone(AMS)
    assert booking["local_day"] == datetime.now(AMS).date().isoformat()
    assert (end.hour, end.minute) == (23, 59)
    # One booking, stored and audited like any other, and scanning again changes nothing.
    again = scan(backend.base_url, ann.token, "hq.1.d-012")
    assert again.status_code == 200 and again.json()["id"] == booking["id"]
    rows = seeded.query(
        f"SELECT status FROM booking WHERE space_id = 'hq.1.d-012' AND user_id = {ann.id}"
    )
    assert [r[0] for r in rows] == ["checked_in"]
    actions = {
        r[0]
        for r in seeded.query(
            f"SELECT action FROM audit_log WHERE object_id = '{booking['id']}'"
            " AND object_type = 'booking'"
        )
    }
    assert {"booking.create", "booking.check_in"} <= actions


def test_scan_refuses_where_booking_cannot_succeed(seeded, serve, people):
    always_open(seeded.url)
    backend = serve(seeded.settings())
    ann, ben = people("employee", "ann"), people("employee", "ben")
    # Someone else's booking now: taken, nothing stored for the scanner.
    book(backend.base_url, ben.token, "hq.1.d-020")
    taken = scan(backend.base_url, ann.token, "hq.1.d-020")
    assert taken.status_code == 409 and taken.json()["reason"] == "space_taken"
    # A desk of one's own today elsewhere: no second desk, the answer names the first.
    mine = book(backend.base_url, ann.token, "hq.1.d-021")
    other = scan(backend.base_url, ann.token, "hq.1.d-022")
    assert other.status_code == 409 and other.json()["reason"] == "other_booking_today"
    assert "hq.1.d-021" in other.json()["detail"]
    # The own booking is checked in by its scan as before (no new booking).
    own = scan(backend.base_url, ann.token, "hq.1.d-021")
    assert own.status_code == 200 and own.json()["id"] == mine["id"]
    # A room's code never books the room for the day.
    room = scan(backend.base_url, ben.token, "hq.1.r-02")
    assert room.status_code == 404 and room.json()["reason"] == "booking_not_found"
    missing = scan(backend.base_url, ann.token, "nowhere.9")
    assert missing.status_code == 404 and missing.json()["reason"] == "space_not_found"
    # Screens book nothing.
    screen = scan(backend.base_url, seeded.signage_token, "hq.1.d-030")
    assert screen.status_code == 403
    stored = seeded.query(
        "SELECT count(*) FROM booking WHERE space_id IN ('hq.1.d-022', 'hq.1.d-030')"
    )
    assert stored[0][0] == 0


def test_scan_before_opening_books_nothing(seeded, people):
    # At a fixed hour on the next working day (the demo site opens 07:00): called in
    # process with that "now", so the test does not depend on the hour it runs at.
    from backend.auth.models import ApiToken
    from backend.bookings import checkin
    from backend.database import make_engine, make_session_factory
    from backend.errors import Conflict

    ann = people("employee", "ann")
    day = datetime.now(AMS).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    token = ApiToken(name="ann", role="employee", token_hash="-", user_id=ann.id)
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            five = datetime.combine(day, time(5, 0), AMS).astimezone(UTC)
            with pytest.raises(Conflict) as refused:
                checkin.check_in_space(session, token, "hq.1.d-012", five)
            assert refused.value.reason == "not_open_yet" and "07:00" in str(refused.value)
            assert seeded.query("SELECT count(*) FROM booking")[0][0] == 0
            # Ten minutes before opening counts, as for any check-in: booked from 07:00.
            early = datetime.combine(day, time(6, 52), AMS).astimezone(UTC)
            booking = checkin.check_in_space(session, token, "hq.1.d-012", early)
            assert booking.status == "checked_in"
            assert booking.start_at.astimezone(AMS).time() == time(7, 0)
    finally:
        engine.dispose()
