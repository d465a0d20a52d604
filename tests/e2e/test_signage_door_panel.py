"""The room door panel: today's schedule without names, "book now" for 15/30/60 minutes by
touch with a panel token bound to that room, refused cleanly otherwise; axe on every state.

The backend's clock is pinned (``office_clock``): 10:00 for the daytime scenarios, and 23:50
and 00:05 for what a person sees at the door around midnight, whatever hour the suite runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from backend.bookings import policy as policies
from backend.bookings.schemas import OpeningDay
from backend.database import make_engine, make_session_factory
from tests.backend.conftest import bearer
from tests.e2e.conftest import AMS, OfficeClock
from tests.e2e.test_a11y import serious
from tests.e2e.test_app import SHOTS
from tests.e2e.test_signage_screens import later_slot, screens, text
from tests.services import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.browser]

ROOM = "hq.1.r-02"


def panel_token(url: str, admin: str, space_id: str) -> str:
    response = httpx.post(
        f"{url}/api/v1/spaces/{space_id}/panel-token", headers=bearer(admin), timeout=30
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def book_now(url: str, token: str, space_id: str, minutes: Any) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/spaces/{space_id}/book-now",
        json={"minutes": minutes},
        headers=bearer(token),
        timeout=30,
    )


def room_bookings(s: Any) -> list[dict[str, Any]]:
    """The room's active bookings, as the admin reads them from the API."""
    items: list[dict[str, Any]] = httpx.get(
        f"{s.url}/api/v1/bookings",
        params={"space_id": ROOM, "active": True},
        headers=bearer(s.admin_token),
        timeout=30,
    ).json()["items"]
    return items


def test_door_panel_shows_today_and_books_30_minutes_by_touch(
    browser, tmp_path, mosquitto_factory, record_property, office_clock
):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="nl-NL", has_touch=True
    )
    with screens(tmp_path, mosquitto_factory, "e2e-door-panel") as s:
        s.states({ROOM: "vacant"})
        panel = panel_token(s.url, s.admin_token, ROOM)
        start, end = later_slot(120, 60)
        s.book(ROOM, start, end)  # by Ann: the panel shows the time, never her name
        try:
            page = context.new_page()
            page.goto(f"{s.url}/signage/room.html?space={ROOM}#token={panel}")
            wait_until(lambda: page.get_attribute("#now", "data-state") == "free", 10)
            slot = f"Gereserveerd {start:%H:%M}–{end:%H:%M}"
            assert slot in text(page, "#schedule")
            assert text(page, "#room-name") == "Overleg 1.02"
            body = page.text_content("body") or ""
            assert "Ann" not in body and "Jansen" not in body
            assert start.date() == office_clock.now().date()  # 10:00: the slot is today
            assert text(page, "#now-text") == f"Vrij tot {start:%H:%M}"
            assert serious(page) == []
            page.screenshot(path=str(SHOTS / "signage-door-panel.png"))

            page.tap('#buttons button[data-minutes="30"]')
            wait_until(
                lambda: text(page, "#book-result").startswith("Gereserveerd tot "),
                10,
                what="booked",
            )
            # The screen follows: booked now, the new slot in today's list, buttons that
            # would clash are off.
            wait_until(lambda: page.get_attribute("#now", "data-state") == "booked", 10)
            # Today's list comes from a fetch the page starts after the booking (and
            # again on the live update): wait for it rather than race it.
            wait_until(lambda: "(nu)" in text(page, "#schedule"), 10, what="slot listed")
            assert "(nu)" in text(page, "#schedule")
            assert page.is_disabled('#buttons button[data-minutes="15"]')
            assert serious(page) == []
            page.screenshot(path=str(SHOTS / "signage-door-panel-booked.png"))
        finally:
            context.close()
        mine = room_bookings(s)
        lengths = sorted(
            (dt.datetime.fromisoformat(b["end_at"]) - dt.datetime.fromisoformat(b["start_at"]))
            for b in mine
        )
        assert dt.timedelta(minutes=30) in lengths
        # Taken now: a second try is refused cleanly, with a reason.
        again = book_now(s.url, panel, ROOM, 15)
        assert again.status_code == 409 and again.json()["reason"] == "space_taken"


def test_only_the_rooms_own_panel_may_book_and_never_outside_opening_hours(
    browser, tmp_path, mosquitto_factory, office_clock
):
    context = browser.new_context(viewport={"width": 1080, "height": 1920}, locale="en-GB")
    with screens(tmp_path, mosquitto_factory, "e2e-door-refusals") as s:
        s.states({ROOM: "vacant", "hq.1.r-03": "vacant"})
        panel = panel_token(s.url, s.admin_token, ROOM)
        # The signage token reads the panel page but gets no buttons and may not book.
        refused = book_now(s.url, s.signage_token, ROOM, 30)
        assert refused.status_code == 403 and refused.json()["reason"] == "not_this_panel"
        # A panel books its own room only; an employee session has no book-now either.
        other = book_now(s.url, panel, "hq.1.r-03", 30)
        assert other.status_code == 403 and other.json()["reason"] == "not_this_panel"
        assert book_now(s.url, s.ann_token, ROOM, 30).status_code == 403
        # Only 15, 30 or 60 minutes; desks have no panel; the panel cannot use the booking API.
        assert book_now(s.url, panel, ROOM, 45).status_code == 422
        assert book_now(s.url, panel, "hq.1.d-001", 30).json()["reason"] == "not_a_room"
        start, end = later_slot(30, 30)
        plain = httpx.post(
            f"{s.url}/api/v1/bookings",
            json={"space_id": ROOM, "start": start.isoformat(), "end": end.isoformat()},
            headers=bearer(panel),
            timeout=30,
        )
        assert plain.status_code == 403
        try:
            page = context.new_page()
            page.goto(
                f"{s.url}/signage/room.html?space={ROOM}&lang=en&contrast=high"
                f"#token={s.signage_token}"
            )
            wait_until(lambda: page.get_attribute("#now", "data-state") == "free", 10)
            assert page.is_hidden("#book")
            assert text(page, "#schedule") == "No bookings today"
            assert serious(page) == []
            page.screenshot(path=str(SHOTS / "signage-door-panel-high-contrast.png"))
        finally:
            context.close()
        # Outside opening hours (open 23:00-23:05 only; the clock says 10:00): refused with
        # the reason the panel shows in words.
        window = (dt.time(23, 0), dt.time(23, 5))
        engine = make_engine(s.settings.database_url)
        try:
            with make_session_factory(engine)() as session:
                days = [OpeningDay(weekday=d, opens=window[0], closes=window[1]) for d in range(7)]
                policies.set_opening_hours(session, "hq", days, "test")
        finally:
            engine.dispose()
        closed = book_now(s.url, panel, ROOM, 30)
        assert closed.status_code == 422, closed.text
        assert closed.json()["reason"] == "outside_opening_hours"


#: What the Dutch panel says when "book now" cannot fit before closing, and when a tap
#: still reaches the server after the last moment (its clock a little behind).
TOO_LATE = "Te laat om te reserveren: het gebouw gaat om 23:59 dicht."
SHUT = "Dat kan niet: het gebouw is dan gesloten."


@pytest.mark.parametrize("moment", [dt.time(23, 50), dt.time(0, 5)], ids=["23h50", "00h05"])
def test_around_midnight_the_door_says_too_late_then_books_the_new_day(
    browser, tmp_path, mosquitto_factory, office_clock: OfficeClock, moment: dt.time
):
    """The sites are open 00:00-23:59: at 23:50 no length fits, after midnight all do."""
    office_clock.at(moment)
    late = moment.hour == 23
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="nl-NL", has_touch=True
    )
    with screens(tmp_path, mosquitto_factory, f"e2e-door-{moment:%H%M}") as s:
        s.states({ROOM: "vacant"})
        panel = panel_token(s.url, s.admin_token, ROOM)
        try:
            page = context.new_page()
            page.goto(f"{s.url}/signage/room.html?space={ROOM}#token={panel}")
            wait_until(lambda: page.get_attribute("#now", "data-state") == "free", 10)
            # The panel's clock is the backend's: the pinned moment, not the browser's time.
            wait_until(lambda: text(page, "#clock")[:4] == f"{moment:%H:%M}"[:4], 10, what="clock")
            buttons = [f'#buttons button[data-minutes="{n}"]' for n in (15, 30, 60)]
            if late:
                # Nothing fits before 23:59: every button is off and says why, in words.
                wait_until(lambda: text(page, "#book-why") == TOO_LATE, 10, what=TOO_LATE)
                assert all(page.is_disabled(b) for b in buttons)
                assert text(page, "#now-text") == "Vrij"  # no booking left today
                assert serious(page) == []
                # A tap that slips through (a page whose clock lags the server's) is
                # refused, and the panel says so in the same words, not "try again".
                page.eval_on_selector(buttons[0], "b => { b.disabled = false; b.click(); }")
                wait_until(lambda: text(page, "#book-result") == SHUT, 10, what=SHUT)
                refused = book_now(s.url, panel, ROOM, 15)
                assert refused.status_code == 422, refused.text
                assert refused.json()["reason"] in ("spans_days", "outside_opening_hours")
            else:
                # A new day: the room is free and 15 minutes from now fit.
                wait_until(lambda: not page.is_disabled(buttons[0]), 10, what="15 on")
                assert text(page, "#book-why") == ""
                assert text(page, "#schedule") == "Vandaag geen reserveringen"
                page.tap(buttons[0])
                wait_until(
                    lambda: text(page, "#book-result").startswith("Gereserveerd tot 00:"),
                    10,
                    what="booked",
                )
                wait_until(lambda: "(nu)" in text(page, "#schedule"), 10, what="slot listed")
                assert serious(page) == []
        finally:
            context.close()
        mine = room_bookings(s)
        if late:
            assert mine == []
        else:
            # One booking of 15 minutes on the new day, starting at the pinned minute.
            [booking] = mine
            start = dt.datetime.fromisoformat(booking["start_at"])
            end = dt.datetime.fromisoformat(booking["end_at"])
            assert end - start == dt.timedelta(minutes=15)
            local = start.astimezone(AMS).replace(tzinfo=None)
            assert local.date() == office_clock.day
            assert dt.timedelta(0) <= local - dt.datetime.combine(office_clock.day, moment)
            assert local - dt.datetime.combine(office_clock.day, moment) < dt.timedelta(minutes=5)
