"""The door panel as people at the door use it: see until when the room is free or taken,
end a meeting early (the room is free at once), extend it while the room is free after, and
read why booking is off when the building is closed. Touch, Dutch and English, axe on every
state. The backend's clock is pinned to 10:00 (``office_clock``), so the meeting, its
extension and the opening hours are the same at whatever hour the suite runs."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.bookings import policy as policies
from backend.bookings.schemas import OpeningDay
from backend.database import make_engine, make_session_factory
from tests.e2e.conftest import OfficeClock
from tests.e2e.test_a11y import serious
from tests.e2e.test_app import SHOTS
from tests.e2e.test_signage_door_panel import panel_token
from tests.e2e.test_signage_screens import screens, text
from tests.services import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.browser]

ROOM = "hq.1.r-02"


def test_a_person_ends_the_meeting_early_and_the_room_is_free(
    browser, tmp_path, mosquitto_factory, office_clock: OfficeClock
):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="nl-NL", has_touch=True
    )
    with screens(tmp_path, mosquitto_factory, "e2e-door-end") as s:
        s.states({ROOM: "occupied"})
        panel = panel_token(s.url, s.admin_token, ROOM)
        start = office_clock.now()  # a meeting that started this minute, 40 minutes long
        end = start + dt.timedelta(minutes=40)
        s.book(ROOM, start, end)
        try:
            page = context.new_page()
            page.goto(f"{s.url}/signage/room.html?space={ROOM}#token={panel}")
            wait_until(lambda: page.is_visible("#end-early"), 10, what="end button")
            # The state comes over the live stream, the schedule by a fetch: wait for both.
            busy = f"Bezet tot {end:%H:%M}"
            wait_until(lambda: text(page, "#now-text") == busy, 10, what=busy)
            assert text(page, "#book-why") == f"Bezet tot {end:%H:%M}"
            assert page.is_disabled('#buttons button[data-minutes="15"]')
            body = page.text_content("body") or ""
            assert "Ann" not in body and "Jansen" not in body
            assert serious(page) == []
            page.screenshot(path=str(SHOTS / "signage-door-panel-meeting.png"))

            # Extend first: the room is free after the meeting, so 15 minutes more is fine.
            page.tap("#extend-15")
            later = end + dt.timedelta(minutes=15)
            wait_until(
                lambda: text(page, "#book-result") == f"Verlengd tot {later:%H:%M}.",
                10,
                what="extended",
            )
            # End now: one tap asks, the second tap ends it.
            page.tap("#end-early")
            assert text(page, "#end-early") == "Tik nog eens om te beëindigen"
            assert serious(page) == []
            page.tap("#end-early")
            wait_until(
                lambda: text(page, "#book-result") == "Beëindigd. De ruimte is nu vrij.",
                10,
                what="ended",
            )
            s.states({ROOM: "vacant"})  # people leave; the sensor sees it
            wait_until(lambda: page.get_attribute("#now", "data-state") == "free", 10)
            wait_until(lambda: page.is_hidden("#meeting"), 10, what="no meeting")
            # The buttons follow the schedule the panel fetches again after the state change.
            wait_until(
                lambda: not page.is_disabled('#buttons button[data-minutes="15"]'),
                10,
                what="book-now offered again",
            )
            assert serious(page) == []
        finally:
            context.close()


@pytest.mark.parametrize(
    ("moment", "expected"),
    [(dt.time(10, 0), "Closed until 23:00"), (dt.time(23, 50), "Closed since 23:30")],
    ids=["before", "after"],
)
def test_closed_says_until_when_in_words(
    browser, tmp_path, mosquitto_factory, office_clock: OfficeClock, moment, expected
):
    office_clock.at(moment)
    context = browser.new_context(viewport={"width": 1080, "height": 1920}, locale="en-GB")
    with screens(tmp_path, mosquitto_factory, "e2e-door-closed") as s:
        s.states({ROOM: "vacant"})
        panel = panel_token(s.url, s.admin_token, ROOM)
        # Open only 23:00-23:30: later today at 10:00, over already at 23:50.
        window = (dt.time(23, 0), dt.time(23, 30))
        engine = make_engine(s.settings.database_url)
        try:
            with make_session_factory(engine)() as session:
                days = [OpeningDay(weekday=d, opens=window[0], closes=window[1]) for d in range(7)]
                policies.set_opening_hours(session, "hq", days, "test")
        finally:
            engine.dispose()
        try:
            page = context.new_page()
            page.goto(f"{s.url}/signage/room.html?space={ROOM}&lang=en#token={panel}")
            wait_until(lambda: page.is_visible("#book"), 10, what="panel buttons")
            wait_until(lambda: text(page, "#book-why") == expected, 10, what=expected)
            for minutes in ("15", "30", "60"):
                button = f'#buttons button[data-minutes="{minutes}"]'
                assert page.is_disabled(button)
                assert page.get_attribute(button, "aria-describedby") == "book-why"
            assert serious(page) == []
            if moment == dt.time(10, 0):
                page.screenshot(path=str(SHOTS / "signage-door-panel-closed.png"))
        finally:
            context.close()
