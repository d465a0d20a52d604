"""Calendar subscription URLs, on SQLite and PostgreSQL: a feed token opens one feed only.

It must read only its owner's bookings, open nothing else, be stored as a hash,
stop working when a new one is made or it is revoked, and never need a login
token in a URL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
import sqlalchemy as sa

from backend.database import make_engine
from tests.backend.conftest import bearer

AMS = ZoneInfo("Europe/Amsterdam")


def next_weekday() -> str:
    """The next Monday-to-Friday day at the site, as ISO text."""
    day = datetime.now(AMS).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day.isoformat()


def book(api, token: str, space: str, day: str) -> int:
    """Book a desk for a day; return the booking id."""
    made = api.post(
        "/api/v1/bookings",
        json={"space_id": space, "date": day, "part": "day"},
        headers=bearer(token),
    )
    assert made.status_code == 201, made.text
    booking_id: int = made.json()["id"]
    return booking_id


def subscribe(api, token: str) -> str:
    """Ask for a subscribe URL; return its path."""
    made = api.post("/api/v1/me/calendar-feed", headers=bearer(token))
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["webcal_url"].startswith("webcal://")
    assert urlsplit(body["webcal_url"]).path == urlsplit(body["url"]).path
    path = urlsplit(body["url"]).path
    assert path.startswith("/api/v1/calendar/") and path.endswith(".ics")
    return path


def test_a_feed_url_reads_its_owners_bookings_only(seeded, api, people):
    ann, bob = people("employee", "ann"), people("employee", "bob")
    day = next_weekday()
    mine = book(api, ann.token, "hq.1.d-001", day)
    theirs = book(api, bob.token, "hq.1.d-002", day)
    path = subscribe(api, ann.token)
    # No header, no login token: the URL is the key, as a calendar program polls it.
    feed = api.get(path)
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"].startswith("text/calendar")
    uids = {str(e["uid"]) for e in icalendar.Calendar.from_ical(feed.content).walk("VEVENT")}
    assert uids == {f"booking-{mine}@werkplek"}, f"not booking-{theirs}"
    # Stored as a hash only: the secret of the URL is nowhere in the database.
    secret = path.removeprefix("/api/v1/calendar/").removesuffix(".ics")
    rows = seeded.query(
        "SELECT token_hash, role, user_id FROM api_token WHERE role = 'calendar_feed'"
    )
    assert [(r[1], r[2]) for r in rows] == [("calendar_feed", ann.id)]
    assert all(secret not in r[0] for r in rows) and len(rows[0][0]) == 64


def test_a_feed_token_opens_nothing_else(seeded, api, people):
    ann = people("employee", "ann")
    path = subscribe(api, ann.token)
    secret = path.removeprefix("/api/v1/calendar/").removesuffix(".ics")
    for where in ("/api/v1/me", "/api/v1/bookings", "/api/v1/me/calendar.ics", "/api/v1/sites"):
        as_header = api.get(where, headers=bearer(secret))
        assert as_header.status_code == 401, (where, as_header.text)
        assert as_header.json()["reason"] == "feed_token_not_allowed"
        in_url = api.get(f"{where}?token={secret}")
        assert in_url.status_code == 401, (where, in_url.text)
    made = api.post("/api/v1/me/calendar-feed", headers=bearer(secret))
    assert made.status_code == 401
    # Other strings in the feed's place: one answer, which tells nothing.
    for wrong in ("cf1.nothing", ann.token, "x"):
        answer = api.get(f"/api/v1/calendar/{wrong}.ics")
        assert answer.status_code == 404, answer.text
        assert answer.json()["reason"] == "feed_not_found"


def test_a_new_url_or_a_revocation_ends_the_old_one(seeded, api, people):
    ann = people("employee", "ann")
    first = subscribe(api, ann.token)
    second = subscribe(api, ann.token)
    assert first != second
    assert api.get(first).status_code == 404, "making a new URL revokes the old one"
    assert api.get(second).status_code == 200
    gone = api.delete("/api/v1/me/calendar-feed", headers=bearer(ann.token))
    assert gone.status_code == 204
    assert api.get(second).status_code == 404
    # Screens and integrations have no person, so no feed.
    refused = api.post("/api/v1/me/calendar-feed", headers=bearer(seeded.signage_token))
    assert refused.status_code == 403
    # A deactivated person's feed stops too.
    third = subscribe(api, ann.token)
    engine = make_engine(seeded.url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE app_user SET active = false WHERE id = :id"), {"id": ann.id}
            )
    finally:
        engine.dispose()
    assert api.get(third).status_code == 404


def test_calendar_docs_do_not_suggest_a_token_in_the_url(api):
    spec = api.get("/openapi.json").json()["paths"]
    text = spec["/api/v1/me/calendar.ics"]["get"]["description"]
    assert "?token=" not in text and "calendar-feed" in text
    assert "/api/v1/calendar/{feed_token}.ics" in spec
