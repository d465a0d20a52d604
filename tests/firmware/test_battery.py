"""Battery mode schedule of a PIR-only node: reports, sleep lengths, never vacant too early."""

from __future__ import annotations

import battery
from hypothesis import given, settings
from hypothesis import strategies as st

CFG = {"hold_s": 600, "heartbeat_s": 3600, "quiet_s": 30}


def test_a_day_of_wakes():
    s = battery.BatteryState(boot=7)
    # Power-up: nothing seen; the first wake reports the state as a heartbeat.
    assert battery.plan(s, 1000, False, CFG) == ("heartbeat", 3600, True)
    # Someone arrives: report at once, then ignore the PIR for the quiet window.
    assert battery.plan(s, 2000, True, CFG) == ("change", 30, False)
    assert s.occupied and s.last_motion_s == 2030
    # Quiet window over, no motion right now: sleep until the hold would run out.
    assert battery.plan(s, 2030, False, CFG) == (None, 600, True)
    # Motion again at 2300: hold restarts (from the end of the new quiet window).
    assert battery.plan(s, 2300, True, CFG) == (None, 30, False)
    assert battery.plan(s, 2330, False, CFG) == (None, 600, True)
    # Left: vacant once the hold has passed since the last possible motion.
    assert battery.plan(s, 2929, False, CFG) == (None, 1, True)
    reason, sleep, pir = battery.plan(s, 2930, False, CFG)
    assert (reason, pir, s.occupied) == ("change", True, False)
    assert sleep == 3600  # next heartbeat counts from this report
    assert battery.plan(s, 6530, False, CFG) == ("heartbeat", 3600, True)


def test_state_survives_rtc_memory_and_garbage_starts_afresh():
    s = battery.BatteryState(boot=99, occupied=True, last_motion_s=5, last_report_s=4, seq=12)
    back = battery.BatteryState.decode(s.encode(), boot=1)
    assert (back.boot, back.occupied, back.last_motion_s, back.last_report_s, back.seq) == (
        99,
        True,
        5,
        4,
        12,
    )
    for raw in (b"", b"\x00" * 16, b"[1, 2]", b'["x", true, 1, 2, 3]'):
        fresh = battery.BatteryState.decode(raw, boot=42)
        assert (fresh.boot, fresh.occupied, fresh.seq) == (42, False, 0)


@settings(max_examples=300, deadline=None)
@given(motions=st.lists(st.integers(1, 20_000), max_size=40, unique=True))
def test_never_vacant_while_someone_moved_within_the_hold_time(motions):
    """Simulate the board: it wakes on the timer, or on PIR motion when the wake is armed."""
    motions.sort()
    hold, pulse_s = CFG["hold_s"], 3  # a PIR pulse stays high ~3 s
    s = battery.BatteryState(boot=1)
    t, motion = 0, False
    wakes = 0
    while t <= 25_000:
        reason, sleep, armed = battery.plan(s, t, motion, CFG)
        wakes += 1
        assert sleep >= 1
        if reason == "change" and not s.occupied:
            assert not [m for m in motions if t - hold <= m <= t], (t, motions)
        if reason == "change" and s.occupied:
            assert motion
        end = t + sleep
        woken = [m for m in motions if t < m <= end] if armed else []
        if woken:
            t, motion = woken[0], True
        else:
            t, motion = end, any(end - pulse_s < m <= end for m in motions)
    # Deep sleep dominates: far fewer wakes than seconds.
    assert wakes < 25_000 / 10
    # Every motion while vacant and armed made the node occupied at once; after the
    # last motion it ends vacant.
    if motions:
        assert not s.occupied
