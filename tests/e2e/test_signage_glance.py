"""The floor screen as a person uses it from 3 m: find a free quiet desk and name its number
(read from the plan tile the list frames), recognise every desk block and the quiet zones,
rooms that keep their place, and an outage that reads "unknown", never "0 free". Landscape
1920x1080 and portrait 1080x1920, Dutch and English; axe on every state."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.e2e.test_a11y import serious
from tests.e2e.test_app import SHOTS
from tests.e2e.test_signage_screens import AMS, Screens, floor_ids, screens, text
from tests.services import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.browser]

WORDS = {
    "nl": {"quiet": "Stilte", "unknown": "Onbekend", "sensors": "sensoren niet bereikbaar sinds",
           "desks": "40 werkplekken: onbekend", "rooms": "4 ruimtes: onbekend", "locale": "nl-NL"},
    "en": {"quiet": "Quiet", "unknown": "Unknown", "sensors": "sensors not reachable since",
           "desks": "40 desks: unknown", "rooms": "4 rooms: unknown", "locale": "en-GB"},
}  # fmt: skip
SIZES = {"landscape": (1920, 1080), "portrait": (1080, 1920)}
QUIET_FREE = ("hq.1.d-029", "hq.1.d-033", "hq.1.d-038")


def busy_morning(s: Screens) -> list[str]:
    """Every desk and room taken except three quiet desks."""
    ids = floor_ids(s, "hq-1")
    s.states({sid: ("vacant" if sid in QUIET_FREE else "occupied") for sid in ids})
    return ids


def plan_facts(page: Any) -> dict[str, Any]:
    """What the plan shows, read from the page as rendered (sizes in screen px)."""
    return dict(
        page.evaluate(
            """() => {
              const px = (n) => parseFloat(n.getAttribute('font-size'))
                * n.ownerSVGElement.getScreenCTM().a;
              const list = document.querySelector('#quiet-desks li[data-space]');
              return {
                labels: [...document.querySelectorAll('#plan-zones .zone-label')]
                  .map(n => n.textContent),
                quietFrames: document.querySelectorAll('#plan-zones .quiet-zone').length,
                quietIcons: document.querySelectorAll('#plan-zones use[href="#icon-quiet"]').length,
                listed: [...document.querySelectorAll('.space[data-listed="true"]')]
                  .map(n => n.getAttribute('data-space-id')),
                rooms: [...document.querySelectorAll('#rooms li[data-space]')]
                  .map(n => n.getAttribute('data-space')),
                roomWord: Math.min(...[...document.querySelectorAll('.room .state-text')].map(px)),
                deskNo: Math.min(...[...document.querySelectorAll('.desk-no')].map(px)),
                listPx: list ? parseFloat(getComputedStyle(list).fontSize) : 0,
              };
            }"""
        )
    )


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_a_person_finds_a_free_quiet_desk_and_names_its_number(
    browser, tmp_path, mosquitto_factory, lang, orientation, record_property
):
    words, (width, height) = WORDS[lang], SIZES[orientation]
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale=words["locale"]
    )
    with screens(tmp_path, mosquitto_factory, f"e2e-glance-{lang}-{orientation}") as s:
        busy_morning(s)
        try:
            page = context.new_page()
            page.goto(f"{s.url}/signage/?site=hq&floor=hq-1&lang={lang}#token={s.signage_token}")
            wait_until(lambda: text(page, "#count-quiet") == "3", 15, what="3 quiet desks free")
            # The person reads the first free quiet desk in the list, finds the framed tile
            # on the plan and reads its number there.
            first = page.locator("#quiet-desks li[data-space]").first
            space = first.get_attribute("data-space")
            tile = page.locator(f'.space[data-space-id="{space}"]')
            assert tile.get_attribute("data-listed") == "true"
            assert tile.get_attribute("data-state") == "free"
            number = tile.locator(".desk-no").text_content()
            assert number == "1.29", number  # Werkplek 1.29 is hq.1.d-029
            assert (first.locator("strong").text_content() or "").endswith(number)
            assert words["quiet"] in (tile.get_attribute("aria-label") or "")
            facts = plan_facts(page)
            # Exactly the listed desks are framed, and only free quiet ones.
            assert sorted(facts["listed"]) == sorted(QUIET_FREE), facts
            # A label over every desk block (two benches per zone), quiet ones by icon + word.
            assert len(facts["labels"]) == 6, facts
            assert facts["labels"].count(words["quiet"]) == 2
            assert facts["quietFrames"] == 2 and facts["quietIcons"] == 2
            # State words on room tiles at least as large as the list; numbers legible.
            assert facts["roomWord"] >= facts["listPx"] > 0, facts
            assert facts["deskNo"] >= 20, facts
            record_property(f"desk_number_px_{orientation}", round(facts["deskNo"], 1))
            # Rooms in name order, and they stay put when states change.
            order = facts["rooms"]
            assert order == ["hq.1.f-04", "hq.1.r-02", "hq.1.r-03", "hq.1.r-01"], order
            s.states({"hq.1.r-03": "vacant", "hq.1.r-01": "vacant"})
            wait_until(
                lambda: (
                    page.get_attribute('#rooms li[data-space="hq.1.r-03"]', "data-state") == "free"
                ),
                10,
                what="room free",
            )
            assert plan_facts(page)["rooms"] == order
            assert serious(page) == []
            if lang == "nl":
                page.screenshot(path=str(SHOTS / f"signage-quiet-desk-{orientation}.png"))
        finally:
            context.close()


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_an_outage_reads_unknown_not_zero_and_desks_and_rooms_are_counted_apart(
    browser, tmp_path, mosquitto_factory, lang
):
    words = WORDS[lang]
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale=words["locale"])
    with screens(tmp_path, mosquitto_factory, f"e2e-outage-{lang}") as s:
        ids = busy_morning(s)
        try:
            page = context.new_page()
            page.goto(f"{s.url}/signage/?site=hq&floor=hq-1&lang={lang}#token={s.signage_token}")
            wait_until(lambda: text(page, "#count-quiet") == "3", 15, what="3 quiet desks free")
            counted = text(page, "#count-desks"), text(page, "#count-rooms")
            assert counted[0].startswith("3 ") and "40" in counted[0], counted
            assert counted[1].startswith("0 ") and "4" in counted[1], counted
            green = page.evaluate("getComputedStyle(document.getElementById('count-quiet')).color")
            # The sensors fall silent: every space unknown. At once (not after a minute) the
            # headline says unknown and since when, in a plain colour; never "0 free".
            s.states(dict.fromkeys(ids, "unknown"))
            now = dt.datetime.now(AMS)
            since = {(now - dt.timedelta(minutes=m)).strftime("%H:%M") for m in (0, 1)}
            wait_until(lambda: text(page, "#count-quiet") == words["unknown"], 10, what="unknown")
            label = text(page, "#count-quiet-label")
            assert label.startswith("— " + words["sensors"] + " "), label
            assert label.split()[-1] in since, (label, since)  # when the sensors went silent
            # The headline turns once most desks are unknown; the count lines follow the last
            # of the spaces' states, which a loaded machine delivers a moment later.
            wait_until(
                lambda: (
                    (text(page, "#count-desks"), text(page, "#count-rooms"))
                    == (words["desks"], words["rooms"])
                ),
                10,
                what="desks and rooms counted as unknown",
            )
            assert page.get_attribute("#headline", "data-mode") == "unknown"
            plain = page.evaluate("getComputedStyle(document.getElementById('count-quiet')).color")
            assert plain != green, (plain, green)
            assert "0" not in text(page, "#headline").split("—")[0]
            assert serious(page) == []
            if lang == "nl":
                page.screenshot(path=str(SHOTS / "signage-outage.png"))
            # Back: the number returns.
            busy_morning(s)
            wait_until(lambda: text(page, "#count-quiet") == "3", 10, what="number back")
            assert page.get_attribute("#headline", "data-mode") == "count"
        finally:
            context.close()
