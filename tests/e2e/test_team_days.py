"""Team days in Chromium at phone size: two colleagues share, a third does not.

Anna shares and plans Tuesday at the central office and books a desk; Bram shares,
sees "2 van je team" on Tuesday with Anna's name (Cas, who plans the same but does not
share, is counted, never named), books "near my team" and gets a desk in Anna's zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from backend.auth import service as auth_service
from backend.bookings.models import ACTIVE, Booking
from backend.database import make_engine, make_session_factory
from backend.people.models import User
from backend.plans.models import WorkPlan
from backend.spaces.models import Space
from backend.teams import service as teams
from backend.teams.schemas import TeamCreate
from tests.e2e.test_a11y import add_user, serious
from tests.e2e.test_app import PASSWORD, SHOTS, running_backend, to_top

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.browser]
AMS = ZoneInfo("Europe/Amsterdam")
WAIT = 30000


def next_tuesday() -> dt.date:
    today = dt.datetime.now(AMS).date()
    return today + dt.timedelta(days=(1 - today.weekday()) % 7 or 7)


def make_team(url: str, *usernames: str) -> None:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            auth_service.create_token(session, "admin", "test admin")
            team = teams.create_team(session, TeamCreate(name="Wijkzaken"))
            for name in usernames:
                user = session.scalars(select(User).where(User.username == name)).one()
                teams.add_member(session, team.id, user.id)
    finally:
        engine.dispose()


def desk_of(url: str, username: str, day: dt.date) -> tuple[str, str | None]:
    """(floor, zone) of the person's active desk booking that day."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            space = session.scalars(
                select(Space)
                .join(Booking, Booking.space_id == Space.id)
                .join(User, User.id == Booking.user_id)
                .where(User.username == username, Booking.local_day == day,
                       Booking.status.in_(ACTIVE))
            ).one()  # fmt: skip
            return space.floor_id, space.zone
    finally:
        engine.dispose()


def open_week(context: Any, url: str, username: str, tuesday: dt.date) -> Any:
    """Log in and show the week holding Tuesday."""
    page = context.new_page()
    page.goto(f"{url}/app/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_selector("#week-days li.week-day", timeout=WAIT)
    monday = tuesday - dt.timedelta(days=1)
    if not page.query_selector(f'#week-days li[data-day="{tuesday}"]'):
        page.click("#week-next")
    page.wait_for_selector(f'#week-days li[data-day="{monday}"]', timeout=WAIT)
    return page


def wait_text(page: Any, selector: str, text: str) -> None:
    page.wait_for_function(
        "([s, t]) => (document.querySelector(s)?.textContent || '').includes(t)",
        arg=[selector, text],
        timeout=WAIT,
    )


def share(page: Any) -> None:
    page.wait_for_selector("#week-share-box:not([hidden])", timeout=WAIT)
    page.check("#week-share")
    wait_text(page, "#notice", "Uw team ziet nu waar u werkt")


def plan_central(page: Any, tuesday: dt.date) -> None:
    page.select_option(f"#week-place-{tuesday}", "site:hq")
    wait_text(page, f"#week-state-{tuesday}", "U werkt op Stadskantoor")


def test_two_colleagues_share_and_book_near_each_other(browser, tmp_path):
    tuesday = next_tuesday()
    day_li = f'#week-days li[data-day="{tuesday}"]'
    phone = {"viewport": {"width": 390, "height": 844}, "locale": "nl-NL"}
    contexts = [browser.new_context(**phone) for _ in range(3)]
    try:
        with running_backend(tmp_path, "anna", "bram", "cas") as backend:
            make_team(backend.settings.database_url, "anna", "bram", "cas")
            anna, bram, cas = (
                open_week(c, backend.url, n, tuesday)
                for c, n in zip(contexts, ("anna", "bram", "cas"), strict=True)
            )
            assert anna.get_attribute("html", "lang") == "nl"
            # Anna shares, plans Tuesday at the central office and books a desk in one tap.
            share(anna)
            plan_central(anna, tuesday)
            anna.click(f'{day_li} button[data-book="{tuesday}"]')
            wait_text(anna, "#notice", "Gelukt")
            wait_text(anna, f"#week-state-{tuesday}", "gereserveerd op Stadskantoor")
            anna_desk = desk_of(backend.settings.database_url, "anna", tuesday)
            # Cas plans the same day but does not share.
            plan_central(cas, tuesday)
            assert not cas.is_checked("#week-share")

            # Bram shares and sees two of his team on Tuesday, only Anna by name.
            share(bram)
            wait_text(bram, f"{day_li} .week-team", "2 van je team: Stadskantoor")
            team_line = bram.inner_text(f"{day_li} .week-team")
            assert "Anna" in team_line and "Cas" not in team_line, team_line
            assert "Cas" not in bram.inner_text("#week")
            assert serious(bram) == []  # axe-core, WCAG 2.1 AA
            plan_central(bram, tuesday)
            bram.click(f'{day_li} button[data-book-near="{tuesday}"]')
            wait_text(bram, "#notice", "bij uw team")
            bram_desk = desk_of(backend.settings.database_url, "bram", tuesday)
            assert bram_desk == anna_desk, (bram_desk, anna_desk)  # same floor and zone
            width = bram.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"page is {width} px wide on a 390 px phone"
            bram.evaluate("s => document.querySelector(s).scrollIntoView()", day_li)
            bram.screenshot(path=str(SHOTS / "app-week-team.png"))

            # Anna, reloaded, counts Bram and Cas and names only Bram; Cas is named nowhere.
            anna.click("#week-prev")
            anna.click("#week-next")
            wait_text(anna, f"{day_li} .week-team", "2 van je team: Stadskantoor — Bram")
            assert "Cas" not in anna.inner_text("#week")

            # The same in English.
            bram.click("#lang-switch")
            wait_text(bram, f"{day_li} .week-team", "2 of your team: Stadskantoor — Anna")
            assert bram.get_attribute("html", "lang") == "en"
            to_top(bram)
    finally:
        for context in contexts:
            context.close()


def test_facility_sees_work_days_per_base_kind_with_small_groups_hidden(browser, tmp_path):
    last_tuesday = next_tuesday() - dt.timedelta(days=14)
    with running_backend(tmp_path, *(f"m{n}" for n in range(7))) as backend:
        add_user(backend.settings, "fenna", "facility")
        engine = make_engine(backend.settings.database_url)
        try:
            with make_session_factory(engine)() as session:
                users = {u.username: u.id for u in session.scalars(select(User))}
                for n in range(7):  # five at the central office, two at home
                    where = {"place": "site", "site_id": "hq"} if n < 5 else {"place": "home"}
                    session.add(WorkPlan(user_id=users[f"m{n}"], day=last_tuesday, **where))
                session.commit()
        finally:
            engine.dispose()
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="nl-NL")
        try:
            page = context.new_page()
            page.goto(f"{backend.url}/facility/?site=hq")
            page.fill("#username", "fenna")
            page.fill("#password", PASSWORD)
            page.press("#password", "Enter")
            page.wait_for_selector("#sust-table tbody tr", timeout=WAIT)
            head = page.inner_text("#sust-table thead")
            for kind in ("Centraal kantoor", "Steunpunt", "Satellietlocatie", "Thuis"):
                assert kind in head
            monday = (last_tuesday - dt.timedelta(days=1)).isoformat()
            row = page.locator(f"#sust-table tbody tr:has(th:text-is('{monday}'))")
            assert row.locator("td[data-kind='central_office']").inner_text() == "5"
            assert row.locator("td[data-kind='home']").inner_text() == "⊘ verborgen"  # 2 < 5
            assert "vakken zijn verborgen: minder dan 5 mensen" in page.inner_text("#sust-summary")
            assert "M0" not in page.inner_text("#sustainability")  # never a name
            assert serious(page) == []
            page.click("#lang-switch")
            wait_text(page, "#sust-table thead", "Central office")
            assert row.locator("td[data-kind='home']").inner_text() == "⊘ hidden"
        finally:
            context.close()
