"""Energy forecast with week plans, a site in another time zone, and the HVAC publish port."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.bookings.models import Booking
from backend.database import make_engine, make_session_factory
from backend.facility import advice, service
from backend.facility.deps import clock, hvac_port
from backend.facility.plans import SitePlans, plans_reader
from backend.facility.router import history_source
from backend.main import create_app
from backend.people import service as people_service
from backend.plans.models import WorkPlan
from backend.spaces.models import Site, Space
from contract import hvac
from history.facility import SqliteSource
from history.sqlite import SqliteHistory
from tests.backend.conftest import bearer

DAY = date(2030, 1, 8)  # a Tuesday
WEEK_LATER = DAY + timedelta(days=7)


@pytest.fixture
def empty_history(tmp_path):
    path = tmp_path / "history.sqlite3"
    store = SqliteHistory(path, raw_retention_days=0, maintain_every_s=1e12)
    store.ensure_schema()
    store.close()
    return path


def _client(seeded, history_path, overrides=None, **settings) -> TestClient:
    """An app on the seeded database, built with ``settings`` (the app's own, nothing global)."""
    app = create_app(seeded.settings(**settings))
    app.dependency_overrides[history_source] = lambda: SqliteSource(history_path)
    app.dependency_overrides.update(overrides or {})
    return TestClient(app)


def _plan(url: str, people: int, site: str, day: date) -> int:
    """``people`` employees plan ``site`` on ``day``; returns the site's zoned spaces."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            for n in range(people):
                user = people_service.create_user(
                    session, username=f"plan-{site}-{day}-{n}", display_name="x", role="employee"
                )
                session.add(WorkPlan(user_id=user.id, day=day, place="site", site_id=site))
            session.commit()
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(Space)
                    .where(Space.site_id == site, Space.zone.is_not(None))
                )
                or 0
            )
    finally:
        engine.dispose()


def _energy(client: TestClient, token: str, day: date) -> dict:
    response = client.get(f"/api/v1/facility/energy?day={day}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_forecast_with_plans_differs_from_one_without_and_says_why(seeded, empty_history):
    planners = 30
    spaces = _plan(seeded.url, planners, "hq", DAY)
    assert planners / spaces > 0.05  # over the setback threshold when spread over hq
    with _client(seeded, empty_history) as client:
        planned = _energy(client, seeded.admin_token, DAY)
        plain = _energy(client, seeded.admin_token, WEEK_LATER)  # same weekday, no plans
    assert planned["basis"] == ["bookings", "history", "plans"]
    assert plain["basis"] == ["bookings", "history"]
    assert "weekplanning" in planned["basis_text"]["nl"]
    assert "week plans" in planned["basis_text"]["en"]
    assert "geen bruikbare weekplanningen" in plain["basis_text"]["nl"]
    for body in (planned, plain):  # the suppression rule is always stated
        assert f"minstens {body['min_group']} mensen" in body["basis_text"]["nl"]
        assert f"at least {body['min_group']} people" in body["basis_text"]["en"]
    hq_plans = next(p for p in planned["plans"] if p["site"] == "hq")
    assert hq_plans["people"] == planners and not hq_plans["suppressed"]
    with_plans = {(z["floor"], z["zone"]): z for z in planned["zones"] if z["site"] == "hq"}
    without = {(z["floor"], z["zone"]): z for z in plain["zones"] if z["site"] == "hq"}
    assert with_plans.keys() == without.keys() and with_plans
    for key, zone in with_plans.items():
        assert zone["mode"] == "comfort" and zone["reason"] == "expected_use"
        assert zone["expected_from"] == "plans"
        if zone["expected_peak"] is not None:  # not a suppressed small zone
            assert zone["expected_peak"] == pytest.approx(planners / spaces)
        assert without[key]["mode"] == "setback" and without[key]["expected_from"] == "none"
        assert without[key]["planned_share"] is None
    assert planned["kwh_saved"] < plain["kwh_saved"]
    # another site without plans is not touched by hq's
    others = [z for z in planned["zones"] if z["site"] != "hq"]
    assert others and all(z["mode"] == "setback" for z in others)


def test_plans_below_the_privacy_floor_are_neither_used_nor_shown(seeded, empty_history):
    with _client(seeded, empty_history) as client:
        k = _energy(client, seeded.admin_token, DAY)["min_group"]
        _plan(seeded.url, k - 1, "hq", DAY)
        body = _energy(client, seeded.admin_token, DAY)
    hq_plans = next(p for p in body["plans"] if p["site"] == "hq")
    assert hq_plans["suppressed"] and hq_plans["people"] is None
    assert body["basis"] == ["bookings", "history"]
    hq = [z for z in body["zones"] if z["site"] == "hq"]
    assert all(z["mode"] == "setback" and z["planned_share"] is None for z in hq)


def test_a_site_in_another_time_zone_gets_its_own_day(seeded, empty_history):
    """hq in Honolulu: an evening booking there falls on the next Dutch day, not on DAY."""
    honolulu = ZoneInfo("Pacific/Honolulu")
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            site = session.get(Site, "hq")
            assert site is not None
            site.timezone = honolulu.key
            desk = session.scalars(
                select(Space).where(Space.site_id == "hq", Space.kind == "desk",
                                    Space.zone.is_not(None))
            ).first()  # fmt: skip
            assert desk is not None and desk.zone
            start = datetime(DAY.year, DAY.month, DAY.day, 16, tzinfo=honolulu)  # 03:00 Dutch
            session.add(
                Booking(
                    space_id=desk.id, site_id="hq", space_kind="desk", guest_name="gast",
                    start_at=start, end_at=start + timedelta(hours=2), local_day=DAY,
                    status="booked",
                )
            )  # fmt: skip
            session.commit()
            key = (desk.site_id, desk.floor_id, desk.zone)
    finally:
        engine.dispose()
    # 08:00 UTC on Monday 7 January: 09:00 in the Netherlands, Sunday 22:00 in Honolulu
    monday_morning = datetime(2030, 1, 7, 8, tzinfo=UTC)
    with _client(seeded, empty_history, {clock: lambda: monday_morning}) as client:
        headers = bearer(seeded.admin_token)
        body = _energy(client, seeded.admin_token, DAY)
        sent = client.post(f"/api/v1/facility/hvac?day={DAY}", headers=headers).json()
        default = client.get("/api/v1/facility/energy", headers=headers).json()
        default_hvac = client.post("/api/v1/facility/hvac", headers=headers).json()
    zone = next(z for z in body["zones"] if (z["site"], z["floor"], z["zone"]) == key)
    # 16:00-18:00 in Honolulu, inside its default opening hours (07-19 local)
    assert zone["mode"] == "comfort" and zone["reason"] == "bookings"
    command = next(c for c in sent["commands"] if c["topic"] == hvac.hvac_topic(*key))
    assert command["payload"]["valid_from"] == "2030-01-08T00:00:00-10:00"
    assert command["payload"]["valid_until"] == "2030-01-09T00:00:00-10:00"
    dutch = next(c for c in sent["commands"] if c["payload"]["site"] != "hq")
    assert dutch["payload"]["valid_from"] == "2030-01-08T00:00:00+01:00"
    # tomorrow of the site whose day starts last: Honolulu's Monday, not the Dutch Tuesday
    assert default["day"] == default_hvac["day"] == "2030-01-07"
    issued = {
        c["payload"]["issued_at"] for c in default_hvac["commands"] if c["payload"]["site"] == "hq"
    }
    assert issued == {"2030-01-06T22:00:00-10:00"}


@dataclass
class FakePort:
    """Stands in for the MQTT bridge: records what the service publishes."""

    up: bool = True
    sent: dict[str, bytes] = field(default_factory=dict)

    def available(self) -> bool:
        return self.up

    def publish(self, topic: str, payload: bytes) -> bool:
        self.sent[topic] = payload
        return True


def test_hvac_publishes_through_the_port_when_enabled(seeded, empty_history):
    port = FakePort()
    with _client(seeded, empty_history, {hvac_port: lambda: port}, hvac_publish=True) as client:
        body = client.post(
            f"/api/v1/facility/hvac?day={DAY}", headers=bearer(seeded.admin_token)
        ).json()
    assert body["dry_run"] is False and body["commands"]
    assert all(c["published"] for c in body["commands"])
    assert set(port.sent) == {c["topic"] for c in body["commands"]}
    for topic, payload in port.sent.items():
        command = hvac.parse_hvac(topic, payload)  # the contract's own parser accepts it
        assert command.dry_run is False and command.valid_from.date() == DAY


def test_hvac_without_a_connection_is_a_503_with_a_reason(seeded, empty_history):
    port = FakePort(up=False)
    with _client(seeded, empty_history, {hvac_port: lambda: port}, hvac_publish=True) as client:
        response = client.post(
            f"/api/v1/facility/hvac?day={DAY}", headers=bearer(seeded.admin_token)
        )
    assert response.status_code == 503
    assert response.json()["reason"] == "mqtt_unavailable"
    assert port.sent == {}


def test_next_weekday_is_always_ahead():
    monday = date(2030, 1, 7)
    assert advice.next_weekday(monday, 0) == monday + timedelta(days=7)
    assert advice.next_weekday(monday, 1) == monday + timedelta(days=1)
    assert advice.next_weekday(date(2030, 1, 13), 0) == date(2030, 1, 14)  # Sunday


@pytest.mark.parametrize(
    ("people", "by_floor", "suppressed", "check"),
    [
        (12, {}, False, "holds"),
        (12, {"hq-3": 6}, False, "desks_booked_here"),
        (12, {"hq-1": 6}, False, "holds"),
        (95, {}, False, "no_room_elsewhere"),
        (None, {}, True, "too_few_plans"),
    ],
)
def test_plan_check_of_an_advice(people, by_floor, suppressed, check):
    """hq has 100 spaces, of which floor hq-3 has 10: the others hold 90."""
    a = service.Advice(("hq", "hq-3"), 1, 10, 0.1, 12.0, "", "")
    plans = SitePlans("hq", DAY, people, suppressed, by_floor, 0)
    assert advice.plan_check(a, plans, {("hq",): 100}) == check


@dataclass(frozen=True)
class Count:
    people: int
    by_floor: dict[str, int]
    suppressed: bool


def test_consolidation_advice_states_the_plans(seeded, tmp_path):
    """Advice from a week of history, each row checked against the plans of its next weekday."""
    from tests.facility import month
    from werkplek.history_gen import generate, midnight_ms

    path = tmp_path / "history.sqlite3"
    store = SqliteHistory(path, raw_retention_days=0, maintain_every_s=1e12)
    store.ensure_schema()
    generate(store, month.SPACES, month.FIRST_DAY, 7)
    store.maintain(midnight_ms(month.FIRST_DAY + timedelta(days=7)))
    store.close()
    asked: list[tuple[str, date]] = []

    def reader(_session, site, day, min_group):
        asked.append((site, day))
        return Count(10, {"hq-1": min_group}, False)  # hq: 25 spaces, hq-1 14, hq-2 8

    end = month.FIRST_DAY + timedelta(days=6)
    with _client(seeded, path, {plans_reader: lambda: reader}) as client:
        headers = bearer(seeded.admin_token)
        client.post(f"/api/v1/facility/rollup?start={month.FIRST_DAY}&end={end}", headers=headers)
        body = client.get(
            f"/api/v1/facility/consolidation?start={month.FIRST_DAY}&end={end}&threshold=1",
            headers=headers,
        ).json()
    assert body["advice"] and body["basis"] == ["history", "plans"]
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Amsterdam")).date()
    for row in body["advice"]:
        plan_day = date.fromisoformat(row["plan_day"])
        assert plan_day.weekday() == row["weekday"] and 0 < (plan_day - today).days <= 7
        assert row["planned_people"] == 10
        expected = "desks_booked_here" if row["floor"] == "hq-1" else "holds"
        assert row["plan_check"] == expected, row
        assert row["plan_nl"] and row["plan_en"] and row["plan_day"] in row["plan_en"]
    assert {site for site, _ in asked} == {"hq"}
