"""The floor screen for a wall nobody touches: "free until" per room and quiet desk, no
scrolling in landscape or portrait, high contrast, the token kept out of every URL the
server sees, and an axe audit of every state. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import paho.mqtt.client as mqtt
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from backend import clock
from backend.auth import service as auth_service
from backend.config import Settings
from backend.database import make_engine, make_session_factory
from backend.main import create_app
from backend.people import service as people
from tests.backend.conftest import always_open, bearer
from tests.e2e.test_a11y import serious
from tests.e2e.test_app import SHOTS, backend_settings, seed
from tests.helpers import serve_app
from tests.services import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.browser]

AMS = ZoneInfo("Europe/Amsterdam")


@dataclass
class Screens:
    """A served backend with a private broker, an admin, an employee and a screen token."""

    url: str
    settings: Settings
    signage_token: str
    admin_token: str
    ann_token: str
    mqtt: mqtt.Client

    def states(self, states: dict[str, str]) -> None:
        """Publish retained space states, as the gateway does."""
        now = int(time.time() * 1000)
        for space_id, state in states.items():
            payload = {"v": 1, "site": space_id.split(".")[0], "space_id": space_id,
                       "state": state, "since": now, "updated": now, "reason": "sensor",
                       "devices": []}  # fmt: skip
            topic = f"werkplek/v1/{payload['site']}/_space/{space_id}/state"
            self.mqtt.publish(topic, json.dumps(payload), qos=1, retain=True).wait_for_publish(5)

    def book(self, space_id: str, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
        """Book as the employee (naive local times, as a client sends)."""
        response = httpx.post(
            f"{self.url}/api/v1/bookings",
            json={"space_id": space_id, "start": start.isoformat(), "end": end.isoformat()},
            headers=bearer(self.ann_token),
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


@contextmanager
def screens(tmp_path: Path, mosquitto_factory: Any, client_id: str) -> Iterator[Screens]:
    """Seed, open every day (tests run at any hour), serve, connect a publisher."""
    broker = mosquitto_factory()  # private: retained states must not leak into other tests
    settings = backend_settings(
        tmp_path, mqtt_enabled=True, mqtt_url=broker.url, mqtt_client_id=client_id
    )
    signage = seed(settings)
    always_open(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            admin = auth_service.create_token(session, "admin", "test admin")
            ann = people.create_user(session, username="ann", display_name="Ann Jansen")
            ann_token, _ = people.issue_session(session, ann, hours=1)
    finally:
        engine.dispose()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        with serve_app(create_app(settings), settings.http_port) as base:
            yield Screens(base, settings, signage, admin, ann_token, client)
    finally:
        client.loop_stop()
        client.disconnect()


def later_slot(offset_min: int, length_min: int) -> tuple[dt.datetime, dt.datetime]:
    """A slot starting about ``offset_min`` from now (local, naive) within one local day.

    "Now" is the backend's clock: the real one, or the one a test pinned (``office_clock``).
    """
    now = clock.utcnow().astimezone(AMS).replace(tzinfo=None, second=0, microsecond=0)
    start = now + dt.timedelta(minutes=offset_min + 5 - now.minute % 5)
    if (start + dt.timedelta(minutes=length_min)).date() != start.date():
        start = dt.datetime.combine(start.date() + dt.timedelta(days=1), dt.time(0, 0))
        start += dt.timedelta(minutes=offset_min // 4)
    return start, start + dt.timedelta(minutes=length_min)


def shown_until(moment: dt.datetime, lang: str = "nl") -> str:
    """How the screens write a time: "14:00", or "morgen 00:15" for tomorrow."""
    today = clock.utcnow().astimezone(AMS).date()
    prefix = "" if moment.date() == today else ("morgen " if lang == "nl" else "tomorrow ")
    return prefix + moment.strftime("%H:%M")


def floor_ids(screens_: Screens, floor: str) -> list[str]:
    """Every space id of a floor."""
    spaces = httpx.get(
        f"{screens_.url}/api/v1/floors/{floor}/spaces",
        headers=bearer(screens_.signage_token),
        timeout=30,
    ).json()
    return [s["id"] for s in spaces]


def text(page: Any, selector: str) -> str:
    """The element's text, or "" while the page has not drawn it yet (a poll, not a failure)."""
    try:
        return str(page.text_content(selector, timeout=2000) or "").strip()
    except PlaywrightTimeout:
        return ""


def test_free_until_appears_and_changes_and_the_token_stays_out_of_urls(
    browser, tmp_path, mosquitto_factory, record_property, office_clock
):
    # The backend's clock at 10:00 (tests/e2e/conftest.py): the bookings below fall on the
    # same day at any hour (at 23:59 a meeting "from now until 23:59" had no length).
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="nl-NL")
    requested: list[str] = []
    with screens(tmp_path, mosquitto_factory, "e2e-signage-until") as s:
        s.states(dict.fromkeys(floor_ids(s, "hq-1"), "vacant"))
        try:
            page = context.new_page()
            page.on("request", lambda r: requested.append(r.url))
            # An old bookmark with ?token=: it still works, and the token leaves the address.
            page.goto(f"{s.url}/signage/?site=hq&floor=hq-1&token={s.signage_token}")
            room = '#rooms li[data-space="hq.1.r-02"] .until'
            wait_until(lambda: text(page, room) == "Vrij", 60, what="room free")
            assert "token=" not in page.url.split("#")[0]
            assert page.url.endswith(f"#token={s.signage_token}")

            start, end = later_slot(90, 30)
            s.book("hq.1.r-02", start, end)
            expected = f"Vrij tot {shown_until(start)}"
            took = wait_until(lambda: text(page, room) == expected, 10, what=expected)
            plan_until = '[data-space-id="hq.1.r-02"] .until-text'
            assert text(page, plan_until) == f"tot {shown_until(start)}"
            assert expected in (page.get_attribute('[data-space-id="hq.1.r-02"]', "aria-label"))

            # An earlier booking moves "free until" forward.
            start2, end2 = later_slot(40, 20)
            s.book("hq.1.r-02", start2, end2)
            expected = f"Vrij tot {shown_until(start2)}"
            wait_until(lambda: text(page, room) == expected, 10, what=expected)

            # A quiet desk booked later today says so in the list of free quiet desks.
            quiet = page.get_attribute("#quiet-desks li[data-space]", "data-space")
            assert quiet is not None and quiet.startswith("hq.1.d-")
            s.book(quiet, *later_slot(60, 60))
            desk = f'#quiet-desks li[data-space="{quiet}"] .until'
            wait_until(lambda: text(page, desk).startswith("Vrij tot "), 10, what="desk until")

            # Occupied now, with a booking that runs until a known time.
            now = office_clock.now()
            ends = now + dt.timedelta(minutes=30)
            s.book("hq.1.r-03", now, ends)
            s.states({"hq.1.r-03": "occupied"})
            busy = f"Bezet tot {ends.strftime('%H:%M')}"
            wait_until(
                lambda: text(page, '#rooms li[data-space="hq.1.r-03"] .until') == busy,
                10,
                what=busy,
            )
            assert page.get_attribute('#rooms li[data-space="hq.1.r-03"]', "data-state") == (
                "occupied"
            )
            # Other floors and sites at a glance; never who booked.
            assert "Verdieping 2: " in text(page, "#other-floors")
            assert "stille plekken vrij" in text(page, "#other-floors")
            assert "Servicepunt Dalfsen" in text(page, "#other-sites")
            assert "Ann" not in (page.text_content("body") or "")
            assert serious(page) == []
            page.screenshot(path=str(SHOTS / "signage-free-until.png"))
        finally:
            context.close()
    # Apart from the old bookmark itself, the screen token never reached the server in a URL
    # (the page moved it to the fragment); the stream was opened with a stream token.
    assert s.signage_token in requested[0]
    assert not [u for u in requested[1:] if s.signage_token in u.split("#")[0]], requested
    streams = [u for u in requested if "/api/v1/stream?" in u]
    assert streams and all("stream_token=st1." in u for u in streams)
    record_property("signage_free_until_shown_s", round(took, 3))


def listed_and_more(page: Any) -> int:
    """Quiet desks in the list plus the "and N more" count."""
    shown = page.locator("#quiet-desks li[data-space]").count()
    more = page.locator("#quiet-desks li.more")
    return int(shown + (int(text(page, "#quiet-desks li.more").split()[-1]) if more.count() else 0))


def overflow(page: Any) -> dict[str, Any]:
    """What would need scrolling, and the smallest text in the side panel (px)."""
    return dict(
        page.evaluate(
            """() => {
              const d = document.documentElement, p = document.getElementById('panel');
              const sizes = [...p.querySelectorAll('li, h2, p, span, strong')]
                .filter(e => e.offsetParent && e.textContent.trim())
                .map(e => parseFloat(getComputedStyle(e).fontSize));
              return {doc: [d.scrollWidth - innerWidth, d.scrollHeight - innerHeight],
                      panel: p.scrollHeight - p.clientHeight, smallest: Math.min(...sizes),
                      hc: d.classList.contains('hc'), bg: getComputedStyle(document.body)
                      .backgroundColor, cursor: getComputedStyle(document.body).cursor};
            }"""
        )
    )


@pytest.mark.parametrize(
    ("size", "contrast"),
    [((1920, 1080), "url"), ((1080, 1920), "system"), ((1080, 1920), None), ((1920, 1080), None)],
    ids=["landscape-high-contrast", "portrait-system-contrast", "portrait", "landscape"],
)
def test_no_scrolling_readable_and_high_contrast(
    browser, tmp_path, mosquitto_factory, size, contrast
):
    width, height = size
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="nl-NL", reduced_motion="reduce"
    )
    with screens(tmp_path, mosquitto_factory, f"e2e-fit-{width}-{contrast}") as s:
        ids = floor_ids(s, "hq-1")
        # A busy morning: every quiet desk free, so the list is longer than the panel.
        s.states({sid: ("occupied" if i % 3 == 0 else "vacant") for i, sid in enumerate(ids)})
        s.states({sid: "vacant" for sid in ids if int(sid[-3:]) > 27 and ".d-" in sid})
        try:
            page = context.new_page()
            if contrast == "system":
                page.emulate_media(contrast="more")
            extra = "&contrast=high" if contrast == "url" else ""
            page.goto(f"{s.url}/signage/?site=hq&floor=hq-1{extra}#token={s.signage_token}")
            wait_until(
                lambda: (
                    page.locator("#quiet-desks li[data-space], #quiet-desks li.more").count() > 1
                ),
                10,
                what="quiet desks listed",
            )
            wait_until(lambda: page.get_attribute("#status", "data-status") == "live", 10)
            found = overflow(page)
            assert found["doc"] == [0, 0] or max(found["doc"]) <= 0, found  # no scrollbars
            assert found["panel"] <= 1, found  # and nothing cut off in the panel
            # The list is shortened to fit, and says how many more there are.
            wait_until(lambda: listed_and_more(page) == 13, 10, what="13 quiet desks")
            assert page.locator("#quiet-desks li[data-space]").count() >= 5
            assert found["smallest"] >= 24, found  # readable from 3 m on a 1080p screen
            assert found["cursor"] == "none"
            assert found["hc"] is (contrast is not None)
            if contrast:
                assert found["bg"] == "rgb(0, 0, 0)"
            assert serious(page) == []
            name = {"url": "signage-high-contrast", "system": "signage-portrait-high-contrast"}
            shot = name.get(contrast or "", f"signage-{'portrait' if height > width else 'wide'}")
            page.screenshot(path=str(SHOTS / f"{shot}.png"))
        finally:
            context.close()


def test_a_silent_stream_turns_stale_in_words_and_no_space_shows_free(
    browser, tmp_path, mosquitto_factory
):
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-GB")
    held: list[Any] = []
    with screens(tmp_path, mosquitto_factory, "e2e-stale") as s:
        # Every sensor reports (with most desks unknown the screen would say "sensors not
        # reachable" at once instead of going stale).
        s.states(dict.fromkeys(floor_ids(s, "hq-1"), "vacant"))
        try:
            page = context.new_page()
            page.clock.install()
            page.goto(f"{s.url}/signage/?site=hq&floor=hq-1&lang=en#token={s.signage_token}")
            wait_until(lambda: page.get_attribute("#status", "data-status") == "live", 10)
            assert page.get_attribute('[data-space-id="hq.1.r-02"]', "data-state") == "free"
            # The last update was a moment ago: this minute, or the one before at a boundary.
            last = page.evaluate(
                "[0, 60000].map(d => new Date(Date.now() - d).toLocaleTimeString('en-GB',"
                " {hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Amsterdam'}))"
            )
            # The stream stays open but says nothing, and the watchdog's probe hangs.
            page.route("**/api/v1/availability*", lambda route: held.append(route))
            page.clock.fast_forward(90_000)
            wait_until(lambda: page.get_attribute("#status", "data-status") == "stale", 10)
            status = text(page, "#status-text")
            assert status in [f"Data not up to date (last {t})" for t in last], status
            assert page.get_attribute('[data-space-id="hq.1.r-02"]', "data-state") == "unknown"
            # Unknown is not zero: the headline says so, and since when.
            assert text(page, "#count-quiet") == "Unknown"
            label = text(page, "#count-quiet-label")
            assert label in [f"— no current data since {t}" for t in last], label
            assert serious(page) == []
        finally:
            context.close()
