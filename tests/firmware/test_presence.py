"""The pure presence state machine, checked transition by transition and exhaustively."""

from __future__ import annotations

import itertools

import pytest
from node import PresenceMachine
from wp_config import space_defaults


def state(machine: PresenceMachine) -> str:
    """The machine's detailed state, as its docstring defines it (the node has no property
    for it: only tests would use one, and on the node it would cost heap)."""
    if machine.occupied:
        return "holding" if machine._first_seen is None else "occupied"
    return "vacant" if machine._first_seen is None else "pending"


def feed(machine: PresenceMachine, samples: list[tuple[int, bool]]) -> list[bool]:
    return [machine.update(t, p) for t, p in samples]


def test_starts_vacant_and_waits_for_confirm_time():
    m = PresenceMachine(confirm_ms=1000, hold_ms=5000, now=0)
    assert (m.occupied, state(m)) == (False, "vacant")
    assert m.update(100, True) is False and state(m) == "pending"
    assert m.update(1099, True) is False and not m.occupied
    assert m.update(1100, True) is True
    assert (m.occupied, state(m)) == (True, "occupied")


def test_gap_during_confirm_restarts_the_confirm_timer():
    m = PresenceMachine(1000, 5000, 0)
    feed(m, [(0, True), (900, False)])
    assert state(m) == "vacant"
    assert feed(m, [(950, True), (1500, True)]) == [False, False]
    assert m.update(1950, True) is True


def test_hold_counts_from_the_last_presence_and_restarts_on_presence():
    m = PresenceMachine(0, 1000, 0)
    assert m.update(0, True) is True
    assert m.update(500, False) is False and state(m) == "holding"
    assert m.update(1400, True) is False and state(m) == "occupied"
    assert m.update(2399, False) is False and m.occupied
    assert m.update(2400, False) is True
    assert (m.occupied, state(m)) == (False, "vacant")


def test_zero_times_follow_the_raw_input():
    m = PresenceMachine(0, 0, 0)
    assert feed(m, [(0, True), (1, True), (2, False), (3, False), (4, True)]) == [
        True,
        False,
        True,
        False,
        True,
    ]


def test_confidence_values():
    m = PresenceMachine(1000, 1000, 0)
    assert m.confidence(0) == 0.5  # just booted: no evidence either way
    assert m.confidence(500) == 0.75
    assert m.confidence(5000) == 1.0
    m.update(6000, True)
    assert m.confidence(6000) == 0.5  # pending
    m.update(7000, True)
    assert m.confidence(7000) == 1.0
    m.update(7000, False)
    assert m.confidence(7500) == 0.75  # holding decays towards 0.5
    m.update(8000, False)
    assert not m.occupied and m.confidence(8000) == 1.0


def test_negative_times_are_rejected():
    with pytest.raises(ValueError):
        PresenceMachine(-1, 0, 0)


def test_space_defaults_desk_holds_longer_than_room():
    desk, room = space_defaults("desk"), space_defaults("room")
    assert desk == (2000, 600000) and desk[1] > room[1]
    assert space_defaults("meeting_room") == room == space_defaults("focus_room")
    with pytest.raises(ValueError):
        space_defaults("kitchen")


def reference(samples: list[bool], confirm: int, hold: int) -> list[bool]:
    """The definition, written independently: states on a 1-tick grid from a history."""
    occupied = False
    out = []
    for t in range(len(samples)):
        if not occupied:
            run = 0
            while t - run >= 0 and samples[t - run]:
                run += 1
            # present for ticks t-run+1..t: seen for (run - 1) ticks
            if samples[t] and run - 1 >= confirm:
                occupied = True
        else:
            last = max((i for i in range(t + 1) if samples[i]), default=None)
            if not samples[t] and last is not None and t - last >= hold:
                occupied = False
        out.append(occupied)
    return out


@pytest.mark.parametrize(("confirm", "hold"), [(0, 0), (1, 2), (2, 1), (3, 3), (2, 4)])
def test_every_input_sequence_matches_the_reference(confirm, hold):
    """All 2^12 sample sequences of length 12, for several (confirm, hold) pairs."""
    for bits in itertools.product((False, True), repeat=12):
        m = PresenceMachine(confirm, hold, 0)
        states = []
        for t, present in enumerate(bits):
            before = m.occupied
            changed = m.update(t, present)
            assert changed == (m.occupied != before)
            assert 0.0 <= m.confidence(t) <= 1.0
            states.append(m.occupied)
        assert states == reference(list(bits), confirm, hold), bits
