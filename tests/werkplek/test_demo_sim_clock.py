"""The demo's one clock: how it is chosen, installed and taken out again.

The end-to-end proof (a desk and a room booked on a simulated morning, the panel's clock
showing it) is tests/e2e/test_demo_clock.py; these are the parts around it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from backend import clock as backend_clock
from werkplek.demo import clock_note, demo_backend_settings, install_clock, parse_start
from werkplek.fleet import SimClock

AMS = ZoneInfo("Europe/Amsterdam")


def test_start_takes_a_time_today_or_a_full_local_date_and_time() -> None:
    wednesday = dt.datetime(2031, 3, 5, 22, 0, tzinfo=AMS)
    assert parse_start("08:00", wednesday) == dt.datetime(2031, 3, 5, 8, 0, tzinfo=AMS)
    saturday = dt.datetime(2031, 3, 8, 12, 0, tzinfo=AMS)
    assert parse_start("08:00", saturday) == dt.datetime(2031, 3, 10, 8, 0, tzinfo=AMS)
    # A full date and time is local, whatever the real day.
    assert parse_start("2031-04-01T10:30", wednesday) == dt.datetime(2031, 4, 1, 10, 30, tzinfo=AMS)
    assert parse_start("2031-04-01T10:30+00:00") == dt.datetime(2031, 4, 1, 10, 30, tzinfo=dt.UTC)
    assert parse_start(None) is None
    with pytest.raises(ValueError):
        parse_start("2031-13-01T10:30")


def test_installing_the_demo_clock_moves_the_backend_and_taking_it_out_restores() -> None:
    start = dt.datetime(2031, 3, 4, 10, 0, tzinfo=AMS)
    try:
        install_clock(SimClock(start, speed=30.0))
        now = backend_clock.utcnow()
        assert dt.timedelta(0) <= now - start < dt.timedelta(minutes=30)
        assert backend_clock.rate() == 30.0
    finally:
        install_clock(None)
    assert not backend_clock.simulated()
    assert abs(backend_clock.utcnow() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)


def test_logins_keep_their_real_length_at_any_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WERKPLEK_SESSION_HOURS", raising=False)
    normal = demo_backend_settings({}, 1.0).session_hours
    assert demo_backend_settings({}, 60.0).session_hours == pytest.approx(normal * 60)
    assert demo_backend_settings({}, 0.5).session_hours == pytest.approx(normal)
    monkeypatch.setenv("WERKPLEK_SESSION_HOURS", "2")
    assert demo_backend_settings({}, 60.0).session_hours == pytest.approx(2.0)


def test_the_note_names_the_simulated_day_only_when_it_is_not_the_real_time() -> None:
    real = dt.datetime(2031, 3, 4, 23, 0, tzinfo=AMS)
    assert clock_note(real, 1.0, now=real) is None
    note = clock_note(dt.datetime(2031, 3, 5, 9, 30, tzinfo=AMS), 1.0, now=real)
    assert note is not None and "09:30" in note and "bookings" in note
    assert clock_note(real, 60.0, now=real) is not None
