"""The simulated working day has the shape the demo and the reports rely on."""

from __future__ import annotations

from datetime import date, datetime

from werkplek.fleet import TIMEZONE, default_start
from werkplek.workday import SpaceSpec, is_present, plan_day

TUESDAY = date(2026, 12, 1)
FRIDAY = date(2026, 12, 4)
SUNDAY = date(2026, 12, 6)
DESKS = [SpaceSpec(f"hq.d-{i:03d}", "desk", quiet=i % 3 == 0) for i in range(300)]
ROOMS = [SpaceSpec(f"hq.r-{i:02d}", "meeting_room") for i in range(40)]


def share_present(plan, specs, hh, mm=0):
    second = hh * 3600 + mm * 60
    return sum(is_present(plan[s.space_id], second) for s in specs) / len(specs)


def test_same_seed_same_day_and_another_seed_another_day():
    assert plan_day(DESKS, TUESDAY, seed=1) == plan_day(DESKS, TUESDAY, seed=1)
    assert plan_day(DESKS, TUESDAY, seed=1) != plan_day(DESKS, TUESDAY, seed=2)


def test_desks_fill_in_the_morning_dip_at_lunch_and_empty_at_night():
    plan = plan_day(DESKS, TUESDAY)
    early, morning = share_present(plan, DESKS, 6), share_present(plan, DESKS, 10, 30)
    lunch, afternoon = share_present(plan, DESKS, 12, 20), share_present(plan, DESKS, 14, 30)
    night = share_present(plan, DESKS, 21)
    assert early == 0 and night == 0
    assert 0.45 < morning < 0.85, morning
    assert lunch < morning - 0.1, (lunch, morning)
    assert afternoon > lunch, (afternoon, lunch)


def test_friday_is_quieter_than_tuesday_and_sunday_nearly_empty():
    tue = share_present(plan_day(DESKS, TUESDAY), DESKS, 10, 30)
    fri = share_present(plan_day(DESKS, FRIDAY), DESKS, 10, 30)
    sun = share_present(plan_day(DESKS, SUNDAY), DESKS, 10, 30)
    assert fri < tue - 0.2
    assert sun < 0.1


def test_intervals_are_ordered_and_inside_the_day():
    for intervals in plan_day(DESKS + ROOMS, TUESDAY).values():
        for part in intervals:
            assert 0 <= part.start < part.end <= 24 * 3600
        starts = [p.start for p in intervals]
        assert starts == sorted(starts)


def test_some_rooms_meet_and_meetings_start_near_the_hour_or_half_hour():
    plan = plan_day(ROOMS, TUESDAY)
    meetings = [p for parts in plan.values() for p in parts]
    assert len(meetings) > 40
    for part in meetings:
        assert part.start % 1800 <= 6 * 60  # at most a few minutes late


def test_demo_starts_in_office_hours():
    night = datetime(2026, 11, 29, 23, 10, tzinfo=TIMEZONE)  # a Sunday night
    start = default_start(night)
    assert (start.weekday(), start.hour, start.minute) == (0, 9, 30)
    busy = datetime(2026, 12, 1, 10, 0, tzinfo=TIMEZONE)
    assert default_start(busy) == busy
    # Inside the default opening hours (07:00-19:00) the sensors keep the real clock,
    # as bookings and door panels do; after closing the next working day is shown.
    late = datetime(2026, 12, 1, 18, 30, tzinfo=TIMEZONE)
    assert default_start(late) == late
    closed = datetime(2026, 12, 1, 19, 0, tzinfo=TIMEZONE)
    assert default_start(closed) == datetime(2026, 12, 2, 9, 30, tzinfo=TIMEZONE)


def test_the_demo_opening_hours_are_the_booking_rules_defaults():
    from backend.bookings import times
    from werkplek.fleet import CLOSES_HOUR, OPENS_HOUR

    assert (times.DEFAULT_OPENS.hour, times.DEFAULT_CLOSES.hour) == (OPENS_HOUR, CLOSES_HOUR)


def test_a_start_time_at_the_weekend_moves_to_monday():
    from werkplek.demo import parse_start

    sunday = datetime(2026, 11, 29, 15, 0, tzinfo=TIMEZONE)
    start = parse_start("10:00", now=sunday)
    assert (start.date().isoformat(), start.hour) == ("2026-11-30", 10)
    tuesday = datetime(2026, 12, 1, 15, 0, tzinfo=TIMEZONE)
    assert parse_start("08:15", now=tuesday).date() == tuesday.date()
