"""planned_counts: people per site and day from plans and desk bookings, suppressed when few."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient

from backend.bookings.models import Booking
from backend.database import make_engine, make_session_factory
from backend.main import create_app
from backend.people import service as people_service
from backend.plans.aggregate import planned_counts
from backend.plans.models import WorkPlan
from tests.backend.conftest import bearer

DAY = date(2031, 3, 4)  # a Tuesday


def _person(session, name):
    return people_service.create_user(session, username=name, display_name=name, role="employee")


def _desk(session, user_id, space_id, site_id="hq", status="booked", guest=None):
    start = datetime(2031, 3, 4, 8, tzinfo=UTC)
    session.add(
        Booking(
            space_id=space_id,
            site_id=site_id,
            space_kind="desk",
            user_id=user_id,
            guest_name=guest,
            start_at=start,
            end_at=start + timedelta(hours=8),
            local_day=DAY,
            status=status,
        )
    )


def test_counts_plans_and_desk_bookings_and_suppresses_small_groups(seeded):
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            users = [_person(session, f"p{n}") for n in range(7)]
            # Four plan the central office; one of them also booked a desk on floor 1.
            for user in users[:4]:
                session.add(WorkPlan(user_id=user.id, day=DAY, place="site", site_id="hq"))
            _desk(session, users[0].id, "hq.1.d-001")
            # One booked on floor 2 without a plan (the booking counts as a plan).
            _desk(session, users[4].id, "hq.2.d-001")
            # Not counted: home, another site, another day, a cancelled booking, a guest.
            session.add(WorkPlan(user_id=users[5].id, day=DAY, place="home"))
            session.add(WorkPlan(user_id=users[6].id, day=DAY, place="site", site_id="dalfsen"))
            session.add(
                WorkPlan(user_id=users[5].id, day=DAY + timedelta(days=1), place="site",
                         site_id="hq")
            )  # fmt: skip
            _desk(session, users[6].id, "hq.3.d-001", status="cancelled")
            _desk(session, users[5].id, "hq.3.d-002", guest="Bezoeker")
            session.commit()

            counted = planned_counts(session, site_id="hq", day=DAY, min_group=5)
            assert counted.people == 5
            assert counted.by_floor == {"hq-1": 1, "hq-2": 1}
            assert counted.suppressed is False
            assert counted.min_group == 5

            # Under the threshold: nothing but the fact of suppression.
            small = planned_counts(session, site_id="hq", day=DAY, min_group=6)
            assert (small.people, small.by_floor, small.suppressed) == (0, {}, True)
            alone = planned_counts(session, site_id="dalfsen", day=DAY, min_group=2)
            assert (alone.people, alone.by_floor, alone.suppressed) == (0, {}, True)
            empty = planned_counts(session, site_id="hq", day=DAY - timedelta(days=7), min_group=5)
            assert empty.suppressed and empty.people == 0
    finally:
        engine.dispose()


def test_the_threshold_is_the_apps_small_cell_rule(seeded):
    """The facility counts use the privacy floor of the app's own settings, nothing global."""
    engine = make_engine(seeded.url)
    try:
        with make_session_factory(engine)() as session:
            users = [_person(session, f"q{n}") for n in range(3)]
            for user in users:
                session.add(WorkPlan(user_id=user.id, day=DAY, place="site", site_id="dalfsen"))
            session.commit()
    finally:
        engine.dispose()
    query = {"site": "dalfsen", "day": DAY.isoformat()}
    for floor, people, suppressed in ((3, 3, False), (4, None, True)):
        with TestClient(create_app(seeded.settings(facility_min_group=floor))) as client:
            body = client.get(
                "/api/v1/facility/planned", params=query, headers=bearer(seeded.admin_token)
            ).json()
        assert body["min_group"] == floor
        (row,) = body["rows"]
        assert (row["people"], row["suppressed"]) == (people, suppressed)
