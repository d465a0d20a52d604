"""Bookings over the API on SQLite and PostgreSQL: the race, access rules, site rules, DST."""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest

from tests.backend.conftest import always_open, bearer

AMS = ZoneInfo("Europe/Amsterdam")


def clear_of_midnight() -> None:
    """Wait for the new day when less than two minutes of today are left in Amsterdam.

    Tests that book "now until later today" need some of today: after 23:59 (closing
    with ``always_open``) no such range exists, as for a person at that hour.
    """
    now = datetime.now(AMS)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), AMS)
    if (left := (midnight - now).total_seconds()) < 120:
        time.sleep(left + 1)


def local_range(minutes: int = 60) -> tuple[str, str]:
    """A range from now within today's local day (naive local times, as a client sends)."""
    clear_of_midnight()
    now = datetime.now(AMS).replace(microsecond=0, tzinfo=None)
    end = min(now + timedelta(minutes=minutes), now.replace(hour=23, minute=59, second=0))
    return now.isoformat(), end.isoformat()


def next_dst_days(today: date) -> tuple[date, date]:
    """The next last-Sunday-of-March and last-Sunday-of-October after today."""

    def last_sunday(year: int, month: int) -> date:
        day = date(year, month + 1, 1) - timedelta(days=1)
        return day - timedelta(days=(day.weekday() - 6) % 7)

    spring = last_sunday(today.year, 3)
    spring = spring if spring > today else last_sunday(today.year + 1, 3)
    autumn = last_sunday(today.year, 10)
    autumn = autumn if autumn > today else last_sunday(today.year + 1, 10)
    return spring, autumn


PLACES = ("/backend/", "sqlalchemy", "psycopg", "anyio")


def _waits() -> dict[str, int]:
    """Where the server's threads are, by innermost project or driver frame (for a hang)."""
    places: Counter[str] = Counter()
    for frame in sys._current_frames().values():
        stack = traceback.extract_stack(frame)
        ours = [
            f for f in stack if "/tests/" not in f.filename and any(k in f.filename for k in PLACES)
        ]
        if ours:
            places[f"{ours[-1].filename.rsplit('/', 2)[-1]}:{ours[-1].lineno} {ours[-1].name}"] += 1
    return dict(places)


def test_double_booking_race_has_exactly_one_winner(seeded, serve, people, record_property):
    """50 people book one desk at once: one 201, 49 x 409, and every request answers.

    Every wait on the server is bounded (pool, lock, statement), so a client with a
    bounded timeout always gets an answer; a 503 (busy) is retried after its
    Retry-After, as a client would. Missing answers fail with what the database and
    the server's threads were waiting on.
    """
    always_open(seeded.url)
    backend = serve(seeded.settings())
    racers = [people("employee", f"racer-{i}") for i in range(50)]
    start, end = local_range(60)
    body = {"space_id": "hq.2.d-007", "start": start, "end": end}
    gate = threading.Barrier(len(racers))
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()
    errors: list[str] = []
    busy: Counter[str] = Counter()
    deadline = time.monotonic() + 90

    def race(token: str) -> None:
        with httpx.Client(base_url=backend.base_url, timeout=20) as client:
            gate.wait(30)
            while True:
                try:
                    response = client.post("/api/v1/bookings", json=body, headers=bearer(token))
                except httpx.HTTPError as exc:
                    with lock:
                        errors.append(repr(exc))
                    return
                if response.status_code == 503 and time.monotonic() < deadline:
                    with lock:
                        busy[response.json()["reason"]] += 1
                    time.sleep(float(response.headers["retry-after"]))
                    continue
                with lock:
                    results.append((response.status_code, response.json()))
                return

    threads = [threading.Thread(target=race, args=(p.token,)) for p in racers]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.1, deadline + 30 - time.monotonic()))
    took = time.monotonic() - began
    codes = sorted(code for code, _ in results)
    if len(results) != 50:  # say what the database was doing (it hung once in a full run)
        activity = (
            seeded.query(
                "SELECT pid, state, wait_event_type, wait_event, pg_blocking_pids(pid),"
                " round(extract(epoch FROM now() - xact_start)), left(query, 60)"
                " FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if seeded.url.startswith("postgresql")
            else []
        )
        raise AssertionError(
            f"{len(results)} answers, {len(errors)} client errors {errors[:3]}, "
            f"database sessions: {activity}, server threads waiting in: {_waits()}"
        )
    assert codes.count(201) == 1, codes
    assert codes.count(409) == 49, codes
    assert {b["reason"] for c, b in results if c == 409} == {"space_taken"}
    stored = seeded.query(
        "SELECT count(*) FROM booking WHERE space_id = 'hq.2.d-007' AND status = 'booked'"
    )
    assert stored[0][0] == 1
    print(f"50 concurrent bookings of one desk: 1 winner, 49 x 409 in {took:.2f} s, busy {busy}")
    record_property("race_seconds", round(took, 3))


def test_database_refuses_an_overlap_that_skips_the_service(seeded, people):
    """The rule lives in the database: a raw insert of an overlapping booking fails."""
    import sqlalchemy as sa

    from backend.database import make_engine

    ann = people("employee", "ann")
    insert = sa.text(
        "INSERT INTO booking (space_id, site_id, space_kind, user_id, start_at, end_at, "
        "local_day, status, sensor_fallback, created_at) VALUES ('hq.1.r-01', 'hq', "
        "'meeting_room', :u, :s, :e, :d, :st, false, :s)"
    )
    s0 = datetime(2030, 1, 7, 9, tzinfo=UTC)
    engine = make_engine(seeded.url)
    try:
        with engine.begin() as conn:
            params = {"u": ann.id, "d": s0.date(), "st": "booked"}
            conn.execute(insert, {**params, "s": s0, "e": s0 + timedelta(hours=2)})
        for status, start, hours in [("booked", 1, 2), ("checked_in", -1, 5)]:
            with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
                s = s0 + timedelta(hours=start)
                row = {"u": ann.id, "d": s0.date(), "st": status}
                conn.execute(insert, {**row, "s": s, "e": s + timedelta(hours=hours)})
        with engine.begin() as conn:  # touching ranges and cancelled ones are fine
            row = {"u": ann.id, "d": s0.date()}
            conn.execute(insert, {**row, "st": "booked", "s": s0 + timedelta(hours=2),
                                  "e": s0 + timedelta(hours=3)})  # fmt: skip
            conn.execute(insert, {**row, "st": "cancelled", "s": s0, "e": s0 + timedelta(hours=1)})
    finally:
        engine.dispose()


def test_employee_cannot_read_or_cancel_anothers_booking(seeded, api, people):
    always_open(seeded.url)
    ann, bob = people("employee", "ann"), people("employee", "bob")
    start, end = local_range(30)
    created = api.post(
        "/api/v1/bookings",
        json={"space_id": "hq.1.d-003", "start": start, "end": end},
        headers=bearer(ann.token),
    )
    assert created.status_code == 201, created.text
    bid = created.json()["id"]
    for method, path in [
        ("GET", f"/api/v1/bookings/{bid}"),
        ("DELETE", f"/api/v1/bookings/{bid}"),
        ("POST", f"/api/v1/bookings/{bid}/check-in"),
        ("GET", f"/api/v1/bookings/{bid}/calendar.ics"),
    ]:
        kwargs = {"json": {}} if method == "POST" else {}
        response = api.request(method, path, headers=bearer(bob.token), **kwargs)
        assert response.status_code == 404, (method, path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    listed = api.get(f"/api/v1/bookings?user_id={ann.id}", headers=bearer(bob.token))
    assert listed.status_code == 403
    assert api.get("/api/v1/bookings", headers=bearer(bob.token)).json()["total"] == 0
    assert api.get("/api/v1/bookings", headers=bearer(ann.token)).json()["total"] == 1
    # Signage screens read availability but cannot write or read bookings.
    screen = bearer(seeded.signage_token)
    body = {"space_id": "hq.1.d-004", "start": start, "end": end}
    assert api.post("/api/v1/bookings", json=body, headers=screen).status_code == 403
    assert api.delete(f"/api/v1/bookings/{bid}", headers=screen).status_code == 403
    assert api.get(f"/api/v1/bookings/{bid}", headers=screen).status_code == 403
    assert api.put("/api/v1/sites/hq/policy", json={}, headers=screen).status_code == 403
    assert api.get("/api/v1/availability?site=hq", headers=screen).status_code == 200
    # The owner can; the booking is still there after all the refusals.
    assert api.delete(f"/api/v1/bookings/{bid}", headers=bearer(ann.token)).json()["status"] == (
        "cancelled"
    )
    trail = api.get(
        f"/api/v1/audit?object_type=booking&object_id={bid}", headers=bearer(seeded.admin_token)
    ).json()
    assert [a["action"] for a in trail] == ["booking.cancel", "booking.create"]
    assert {a["actor"] for a in trail} == {f"user:{ann.id}"}


def test_site_rules_and_clear_errors(seeded, api, people):
    always_open(seeded.url, advance_days=7, max_minutes=780)
    ann = people("employee", "ann")
    h = bearer(ann.token)
    now = datetime.now(AMS).replace(second=0, microsecond=0, tzinfo=None)

    def book(**body):
        return api.post("/api/v1/bookings", json={"space_id": "hq.1.d-010", **body}, headers=h)

    cases = [
        ({"start": (now - timedelta(hours=3)).isoformat(),
          "end": (now - timedelta(hours=2)).isoformat()}, "in_the_past"),
        ({"date": (now + timedelta(days=9)).date().isoformat(), "part": "day"}, "too_far_ahead"),
        ({"space_id": "hq.1.r-01", "start": now.isoformat(),
          "end": (now + timedelta(minutes=781)).isoformat()}, "too_long"),
        ({"date": now.date().isoformat()}, "validation_error"),
        ({"date": now.date().isoformat(), "part": "evening"}, "validation_error"),
        ({"space_id": "hq.9.d-999", "date": now.date().isoformat(), "part": "day"},
         "space_not_found"),
    ]  # fmt: skip
    for body, reason in cases:
        response = book(**body)
        assert response.status_code in (404, 422), response.text
        problem = response.json()
        assert problem["reason"] == reason, (body, problem)
        assert problem["status"] == response.status_code and problem["detail"]
    # A day part that has begun is booked from now on.
    today = book(space_id="hq.1.d-013", date=now.date().isoformat(), part="day")
    assert today.status_code == 201, today.text
    began = datetime.fromisoformat(today.json()["start_at"])
    assert abs(began - datetime.now(UTC)) < timedelta(minutes=2)
    # One desk per person per day, also on another desk; a guest booking is allowed.
    day = (now + timedelta(days=1)).date().isoformat()
    assert book(date=day, part="morning").status_code == 201
    second = api.post(
        "/api/v1/bookings",
        json={"space_id": "hq.1.d-011", "date": day, "part": "afternoon"},
        headers=h,
    )
    assert second.status_code == 409 and second.json()["reason"] == "one_desk_per_day"
    guest = api.post(
        "/api/v1/bookings",
        json={"space_id": "hq.1.d-011", "date": day, "part": "afternoon", "guest_name": "Gast"},
        headers=h,
    )
    assert guest.status_code == 201
    # Facility books on behalf of someone; an employee may not.
    fac = people("facility", "fm")
    other = {"space_id": "hq.1.d-012", "date": day, "part": "morning", "user_id": fac.id}
    assert api.post("/api/v1/bookings", json=other, headers=h).status_code == 403
    other["user_id"] = ann.id
    other["space_id"] = "hq.1.r-02"
    assert api.post("/api/v1/bookings", json=other, headers=bearer(fac.token)).status_code == 201
    # A holiday closes the site.
    api.post(
        "/api/v1/sites/hq/holidays",
        json={"day": (now + timedelta(days=2)).date().isoformat(), "name": "Koningsdag"},
        headers=bearer(fac.token),
    ).raise_for_status()
    closed = book(date=(now + timedelta(days=2)).date().isoformat(), part="day")
    assert closed.status_code == 422 and closed.json()["reason"] == "site_closed"
    assert "Koningsdag" in closed.json()["detail"]


def test_a_site_without_own_hours_keeps_the_default_hours_when_another_has_its_own(
    seeded, api, people
):
    # The booking's first query reads the day's opening time along with the space. Its
    # "has own hours?" count once counted every site's rows, so one site's own hours made
    # every site without them closed (and cost a scan of every space per booking).
    always_open(seeded.url, sites=("hq",))  # Dalfsen keeps the defaults: Mon-Fri 07-19
    ann = people("employee", "ann")
    day = date.today() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    body = {"space_id": "dalfsen.0.d-001", "date": day.isoformat(), "part": "day"}
    made = api.post("/api/v1/bookings", json=body, headers=bearer(ann.token))
    assert made.status_code == 201, made.text
    start = datetime.fromisoformat(made.json()["start_at"]).astimezone(AMS)
    assert (start.date(), start.hour, start.minute) == (day, 7, 0)


def test_dst_change_days(seeded, api, people):
    always_open(seeded.url, advance_days=366, max_minutes=200)
    ann = people("employee", "ann")
    fac = people("facility", "fm")
    spring, autumn = next_dst_days(datetime.now(AMS).date())

    def book(space: str, token: str = ann.token, **body):
        return api.post("/api/v1/bookings", json={"space_id": space, **body}, headers=bearer(token))

    # Day parts follow the wall clock: 00:00 local is 23:00Z before spring, 22:00Z after.
    morning = book("hq.1.d-001", date=spring.isoformat(), part="morning").json()
    assert "start_at" in morning, morning
    assert morning["start_at"].startswith(f"{(spring - timedelta(days=1)).isoformat()}T23:00")
    assert morning["end_at"].startswith(f"{spring.isoformat()}T10:30")  # 12:30 CEST
    after = book("hq.1.d-001", date=autumn.isoformat(), part="afternoon").json()
    assert after["start_at"].startswith(f"{autumn.isoformat()}T11:30")  # 12:30 CET
    # 02:30 does not exist in spring; in autumn it happens twice unless an offset is given.
    gone = book("hq.1.r-01", start=f"{spring}T02:30", end=f"{spring}T04:00")
    assert gone.status_code == 422 and gone.json()["reason"] == "nonexistent_local_time"
    twice = book("hq.1.r-01", start=f"{autumn}T02:30", end=f"{autumn}T04:00")
    assert twice.status_code == 422 and twice.json()["reason"] == "ambiguous_local_time"
    first = book("hq.1.r-01", start=f"{autumn}T02:30+02:00", end=f"{autumn}T02:50+02:00")
    assert first.status_code == 201, first.text
    assert first.json()["start_at"].startswith(f"{autumn}T00:30")  # the first 02:30 (CEST)
    # 00:00-03:00 by the clock lasts 4 real hours in autumn: over a 200-minute limit.
    long = book("hq.1.r-02", start=f"{autumn}T00:00", end=f"{autumn}T03:00")
    assert long.status_code == 422 and long.json()["reason"] == "too_long"
    short = book("hq.1.r-02", token=fac.token, start=f"{spring}T00:00", end=f"{spring}T03:00")
    assert short.status_code == 201, short.text  # 2 real hours in spring
    # The two 02:30s of autumn are different times: the second is free.
    second = book("hq.1.r-01", token=fac.token, start=f"{autumn}T02:30+01:00",
                  end=f"{autumn}T03:30+01:00")  # fmt: skip
    assert second.status_code == 201, second.text
    clash = book("hq.1.r-01", token=fac.token, start=f"{autumn}T02:40+02:00",
                 end=f"{autumn}T02:45+02:00")  # fmt: skip
    assert clash.status_code == 409


def test_calendar_confirmation_and_feeds(seeded, api, people):
    always_open(seeded.url)
    ann = people("employee", "ann")
    start, end = local_range(45)
    booking = api.post(
        "/api/v1/bookings",
        json={"space_id": "hq.1.r-03", "start": start, "end": end, "title": "Strategiesessie"},
        headers=bearer(ann.token),
    ).json()
    ics = api.get(f"/api/v1/bookings/{booking['id']}/calendar.ics", headers=bearer(ann.token))
    assert ics.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(ics.content)
    assert str(cal["method"]) == "PUBLISH"
    (event,) = cal.walk("VEVENT")
    assert event["dtstart"].dt == datetime.fromisoformat(booking["start_at"])
    assert event["dtend"].dt == datetime.fromisoformat(booking["end_at"])
    assert str(event["summary"]) == "Strategiesessie: Overleg 1.03"
    mine = api.get("/api/v1/me/calendar.ics", headers=bearer(ann.token))
    assert len(icalendar.Calendar.from_ical(mine.content).walk("VEVENT")) == 1
    room = api.get(
        "/api/v1/spaces/hq.1.r-03/calendar.ics", headers=bearer(seeded.signage_token)
    ).content
    (taken,) = icalendar.Calendar.from_ical(room).walk("VEVENT")
    assert str(taken["summary"]) == "Bezet / Booked"
    assert b"Ann" not in room and b"Strategiesessie" not in room  # when, never who or what


def test_weekly_room_series_keeps_wall_clock_time_over_dst(seeded, api, people):
    always_open(seeded.url, advance_days=400)
    ann, bob = people("employee", "ann"), people("employee", "bob")
    spring, _ = next_dst_days(datetime.now(AMS).date() + timedelta(days=14))
    first = spring - timedelta(days=13)  # a Monday two weeks before the change (Sunday)
    taken = first + timedelta(weeks=1)
    block = api.post(
        "/api/v1/bookings",
        json={"space_id": "hq.1.r-03", "start": f"{taken}T09:30", "end": f"{taken}T10:30"},
        headers=bearer(bob.token),
    )
    assert block.status_code == 201
    body = {
        "space_id": "hq.1.r-03",
        "first_date": first.isoformat(),
        "start_time": "10:00",
        "end_time": "11:00",
        "count": 5,
        "except_dates": [(first + timedelta(weeks=3)).isoformat()],
        "title": "Teamoverleg",
    }
    result = api.post("/api/v1/booking-series", json=body, headers=bearer(ann.token))
    assert result.status_code == 201, result.text
    series = result.json()
    skipped = {s["date"]: s["reason"] for s in series["skipped"]}
    assert skipped == {taken.isoformat(): "space_taken",
                       (first + timedelta(weeks=3)).isoformat(): "exception"}  # fmt: skip
    starts = [b["start_at"] for b in series["created"]]
    assert len(starts) == 3
    # 10:00 local is 09:00Z in winter and 08:00Z in summer time.
    assert starts[0].startswith(f"{first}T09:00")
    assert starts[-1].startswith(f"{first + timedelta(weeks=4)}T08:00")
    assert {b["series_id"] for b in series["created"]} == {series["series_id"]}
    # Someone else cannot cancel it; the owner cancels the rest at once.
    sid = series["series_id"]
    assert api.delete(f"/api/v1/booking-series/{sid}", headers=bearer(bob.token)).status_code == 404
    done = api.delete(f"/api/v1/booking-series/{sid}", headers=bearer(ann.token))
    assert sorted(done.json()["cancelled"]) == sorted(b["id"] for b in series["created"])
    desk = api.post("/api/v1/booking-series", json={**body, "space_id": "hq.1.d-001"},
                    headers=bearer(ann.token))  # fmt: skip
    assert desk.status_code == 422 and desk.json()["reason"] == "series_for_rooms"


def test_openapi_documents_the_booking_api(api):
    paths = api.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/bookings", "/api/v1/booking-series", "/api/v1/auth/oidc",
                 "/api/v1/floors/{floor_id}/free-desks", "/api/v1/me/export"):  # fmt: skip
        assert path in paths, path
