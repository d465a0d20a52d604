"""The facility pages in Chromium: a cleaner marks a space cleaned on a 390 px phone, the use
and energy figures render as tables with text values, axe finds nothing serious.

Screenshots go to docs/screenshots/facility-*.png only with WERKPLEK_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from backend.database import make_engine, make_session_factory
from backend.facility import rollup
from backend.facility.opening import DEFAULT
from backend.spaces.models import Space
from history.base import PresencePoint
from history.facility import SqliteSource
from history.sqlite import SqliteHistory
from tests.e2e.test_a11y import add_user, serious
from tests.e2e.test_app import PASSWORD, SHOTS, running_backend
from tests.services import wait_until
from werkplek.history_gen import PlacedSpace, generate, midnight_ms
from werkplek.workday import SpaceSpec

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.browser]

ITEMS = "#clean-list li[data-space]"
DUTCH_MONTHS = (
    "januari februari maart april mei juni juli augustus september oktober november december"
).split()
SPACE_IDS = "l => l.map(e => e.dataset.space)"


def _registry_spaces(url: str) -> list[Space]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            rows = session.query(Space).filter(Space.floor_id == "hq-1").order_by(Space.id).all()
            session.expunge_all()
            return rows
    finally:
        engine.dispose()


def _seed_history(path, spaces: list[Space]) -> tuple[list[str], dict]:
    """Two past weeks from the generator (rolled up), and today's use of three desks.

    Returns the desks used today and the generator's plan of the past days.
    """
    store = SqliteHistory(path, raw_retention_days=0, maintain_every_s=1e12)
    store.ensure_schema()
    placed = [
        PlacedSpace(SpaceSpec(s.id, s.kind, quiet=s.quiet), s.site_id, s.floor_id, s.zone or "")
        for s in spaces
    ]
    today = datetime.now(DEFAULT.tz).date()  # hq's zone, as the generator's days
    first = today - timedelta(days=15)
    plans = generate(store, placed, first, 14)
    store.maintain(midnight_ms(first + timedelta(days=14)))
    now = int(datetime.now(UTC).timestamp() * 1000)
    midnight = midnight_ms(today)
    elapsed = now - midnight
    at = [midnight + elapsed * share // 10 for share in range(11)]
    used = [s for s in spaces if s.kind == "desk"][:3]
    points = []
    for n, space in enumerate(spaces[:6]):
        states = ((1, True), (5, False)) if space in used else ((1, False),)
        for i, (share, occupied) in enumerate(states):
            points.append(
                PresencePoint(
                    site=space.site_id, device=f"node-{n}", time_ms=at[share],
                    occupied=occupied, seq=i, boot=1, source="radar", clock_corrected=False,
                    space=space.id, kind=space.kind, floor=space.floor_id, zone=space.zone,
                )
            )  # fmt: skip
    store.write_points(points)
    store.close()
    source = SqliteSource(path)
    for offset in range(14):
        rollup.rollup_day(source, first + timedelta(days=offset), {"hq": DEFAULT})
    return [s.id for s in used], plans


@pytest.fixture
def facility_env(tmp_path):
    """Where the history goes and the facility settings of the backend (built explicitly)."""
    path = tmp_path / "history.sqlite3"
    return path, {
        "history_path": path,
        "cleaning_min_minutes": 0.01,
        "facility_rollup_every_s": 0,
    }


def test_cleaner_marks_a_space_cleaned_on_a_phone(browser, tmp_path, facility_env, record_property):
    path, extra = facility_env
    with running_backend(tmp_path, **extra) as backend:
        add_user(backend.settings, "fenna", "facility")
        spaces = _registry_spaces(backend.settings.database_url)
        used, plans = _seed_history(path, spaces)
        found: dict[str, list[str]] = {}
        context = browser.new_context(viewport={"width": 390, "height": 844})
        try:
            page = context.new_page()
            page.goto(f"{backend.url}/facility/?site=hq&floor=hq-1")
            found["login"] = serious(page)
            page.fill("#username", "fenna")
            page.fill("#password", PASSWORD)
            page.press("#password", "Enter")
            page.wait_for_selector("#clean-list li[data-space]")
            listed = page.eval_on_selector_all(ITEMS, SPACE_IDS)
            assert sorted(listed) == sorted(used)
            # Cards name the space as its plan does, not by its id.
            names = {s.id: s.name for s in spaces}
            card = page.text_content(f"#clean-list li[data-space='{used[0]}'] .what") or ""
            assert card.startswith(names[used[0]]) and used[0] not in card
            # On a phone the cleaning list comes before the period of the use figures.
            cleaning_top = page.locator("#cleaning").bounding_box()["y"]
            assert cleaning_top < page.locator("#period").bounding_box()["y"]
            assert (
                page.evaluate("document.documentElement.scrollWidth") <= 390
            )  # no sideways scroll
            found["cleaning list"] = serious(page)
            page.screenshot(path=str(SHOTS / "facility-cleaning-phone.png"))
            first = used[0]
            page.click(f"#clean-list li[data-space='{first}'] button")
            page.wait_for_selector(f"#clean-list li.done[data-space='{first}']")
            assert names[first] in page.text_content("#notice")
            found["cleaned"] = serious(page)
            page.reload()
            page.wait_for_selector("#clean-list li[data-space]")
            after = page.eval_on_selector_all(ITEMS, SPACE_IDS)
            assert first not in after and len(after) == len(used) - 1  # the mark was stored
            # a past day: the list of that day, as the plan used it, without "cleaned" buttons
            past = max(d for d in plans if d.weekday() < 5)
            desks = {s.id for s in spaces if s.kind == "desk"}
            expected = sorted(s for s, parts in plans[past].items() if s in desks and parts)
            assert expected, "the plan must use a desk on that day"
            page.fill("#clean-day", past.isoformat())
            page.dispatch_event("#clean-day", "change")
            month = DUTCH_MONTHS[past.month - 1]
            wait_until(
                lambda: f"{past.day} {month} {past.year}" in page.text_content("#clean-status"),
                30,
                interval=0.2,
                what="the past day's list, its date written in Dutch",
            )
            assert past.isoformat() not in page.text_content("#clean-status")
            listed = page.eval_on_selector_all(ITEMS, SPACE_IDS)
            assert sorted(s for s in listed if s in desks) == expected
            assert page.locator("#clean-list button").count() == 0
            found["past day"] = serious(page)
        finally:
            context.close()
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            page.goto(f"{backend.url}/facility/?site=hq&floor=hq-1")
            page.fill("#username", "fenna")  # a new browser context: log in again
            page.fill("#password", PASSWORD)
            page.press("#password", "Enter")
            page.wait_for_selector("#heat-table tbody td")
            cells = page.eval_on_selector_all(
                "#heat-table tbody td", "l => l.map(e => e.textContent)"
            )
            assert cells and all(c.endswith("%") or c in ("-", "verborgen") for c in cells)
            assert page.locator("#util-table tbody tr").count() >= 1
            peaks = page.eval_on_selector_all(
                "#util-table tbody td:last-child", "l => l.map(e => e.textContent)"
            )  # average and peak side by side, as text
            assert peaks and all(p.endswith("%") or p == "verborgen" for p in peaks)
            assert page.locator("#util-table thead th").count() == 4
            assert page.locator("#energy-table tbody tr").count() >= 1
            # Charts drawn as SVG next to their tables; Dutch number formats; every heading.
            assert page.locator("#heat-chart rect").count() == len(cells)
            assert page.locator("#trend-chart circle").count() >= 1
            assert page.text_content("#advice-title").strip()
            summary = page.text_content("#energy-summary") or ""
            assert re.search(r"\d,\d kWh", summary) and not re.search(r"\d\.\d", summary)
            page.wait_for_function(
                "() => document.getElementById('quiet-text').textContent.length > 0"
            )
            found["use and energy"] = serious(page)
            page.screenshot(path=str(SHOTS / "facility-use.png"), full_page=True)
            page.click("#lang-switch")
            page.wait_for_function("() => document.documentElement.lang === 'en'")
            page.wait_for_selector("#heat-table tbody td")
            found["english"] = serious(page)
        finally:
            context.close()
    for name, problems in found.items():
        assert not problems, f"{name}: " + "; ".join(problems)
    record_property("axe_states", len(found))
