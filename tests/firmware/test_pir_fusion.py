"""PIR driver (interrupt latch, retrigger, warm-up) and the PIR + radar fusion."""

from __future__ import annotations

import node as fusion  # Fusion lives in node (one module less on the heap)
import pir
import pytest
from node import PresenceMachine


class Clock:
    def __init__(self) -> None:
        self.now = 1000

    def __call__(self) -> int:
        return self.now


class FakePin:
    """A GPIO: the test sets the level; a rising edge calls the registered IRQ handler."""

    def __init__(self) -> None:
        self.level = 0
        self.handler = None
        self.trigger = None

    def irq(self, handler, trigger):
        self.handler, self.trigger = handler, trigger

    def value(self) -> int:
        return self.level

    def set(self, level: int) -> None:
        changed = level != self.level
        self.level = level
        if changed and self.handler:
            self.handler(self)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(pir, "ticks_ms", c)
    return c


def test_the_driver_registers_a_rising_edge_interrupt(clock):
    pin = FakePin()
    pir.PIR(pin)
    assert pin.handler is not None and pin.trigger == 3  # IRQ_RISING | IRQ_FALLING


def test_a_pulse_shorter_than_a_poll_is_latched_for_the_retrigger_time(clock):
    pin = FakePin()
    sensor = pir.PIR(pin, retrigger_ms=3000)
    assert sensor.value() is False
    pin.set(1)
    clock.now += 20
    pin.set(0)  # the pulse ended between two polls
    assert sensor.value() is True and sensor.count == 2  # edges
    clock.now += 2990
    assert sensor.value() is True
    clock.now += 20
    assert sensor.value() is False


def test_single_trigger_module_gaps_are_bridged_while_someone_keeps_moving(clock):
    pin = FakePin()
    sensor = pir.PIR(pin, retrigger_ms=3000)
    seen = []
    # An "L" jumper module: 2.5 s pulse, then 2.5 s blind, while the person moves.
    for _ in range(4):
        pin.set(1)
        for _ in range(5):
            clock.now += 500
            seen.append(sensor.value())
        pin.set(0)
        for _ in range(5):
            clock.now += 500
            seen.append(sensor.value())
    assert all(seen)


def test_an_edge_is_forgotten_after_the_retrigger_time(clock):
    """Ticks wrap (2**30 ms on MicroPython): an edge kept ~6 days would look recent again."""
    pin = FakePin()
    sensor = pir.PIR(pin, retrigger_ms=3000)
    pin.set(1)
    pin.set(0)
    assert sensor.value() is True and sensor.end is not None
    clock.now += 3000
    assert sensor.value() is False and sensor.end is None


def test_edges_during_warm_up_are_ignored(clock):
    pin = FakePin()
    sensor = pir.PIR(pin, retrigger_ms=3000, warmup_ms=30000)
    pin.set(1)
    assert sensor.value() is False  # not warm yet: even a high pin reads as no motion
    pin.set(0)
    assert sensor.value() is False
    clock.now += 30000
    assert sensor.value() is False  # the warm-up edge does not count afterwards
    pin.set(1)
    assert sensor.value() is True


class Radar:
    def __init__(self) -> None:
        self.move = 0
        self.still = 0
        self.broken = False
        self.max_cm = None
        self.min_energy = 0

    def read(self) -> tuple[int, int]:
        if self.broken:
            raise OSError("radar silent")
        return self.move, self.still


class Pin:
    def __init__(self) -> None:
        self.on = False
        self.broken = False

    def value(self) -> bool:
        if self.broken:
            raise OSError("gpio")
        return self.on


def test_fusion_sources_and_evidence():
    p, r = Pin(), Radar()
    f = fusion.Fusion(p, r)
    assert f.value() is False and (f.source, f.evidence) == ("fused", 1.0)
    p.on = True
    assert f.value() is True and (f.source, f.evidence) == ("pir", 0.8)  # a PIR alone
    r.move = 100
    assert f.value() is True and f.source == "fused" and f.evidence == 0.98
    p.on, r.move, r.still = False, 0, 50
    assert f.value() is True and (f.source, f.evidence) == ("radar", 0.7)


def test_one_broken_input_leaves_the_other_working_both_broken_raises():
    p, r = Pin(), Radar()
    f = fusion.Fusion(p, r)
    r.broken, p.on = True, True
    assert f.value() is True and f.source == "pir" and f.errors["radar"] == 1
    p.on = False
    assert f.value() is False and f.evidence < 1.0  # absence seen by one input only
    p.broken = True
    with pytest.raises(OSError):
        f.value()
    with pytest.raises(ValueError):
        fusion.Fusion()


def test_a_still_person_seen_only_by_the_radar_keeps_the_desk_occupied():
    """PIR sees the person sit down, then nothing for 30 min; the radar sees breathing."""
    p, r = Pin(), Radar()
    f = fusion.Fusion(p, r)
    m = PresenceMachine(confirm_ms=2000, hold_ms=600_000, now=0)
    states = []
    for t in range(0, 1_800_000, 500):  # 30 minutes of samples every 0.5 s
        p.on = t < 5000  # motion while sitting down only
        r.still = 45  # breathing, all the time
        states.append((m.update(t, f.value(), f.evidence), m.occupied, m.confidence(t)))
    first = next(i for i, s in enumerate(states) if s[1])
    assert all(s[1] for s in states[first:]), "flickered to vacant"
    assert states[-1][2] == 0.68  # a still target of energy 45: 0.5 + 0.4 * 45 / 100
    # The same half hour with a PIR only: vacant after the hold time.
    m2 = PresenceMachine(2000, 600_000, 0)
    pir_only = [m2.update(t, t < 5000) or m2.occupied for t in range(0, 1_800_000, 500)]
    assert pir_only[-1] is False


def test_confidence_follows_the_evidence_and_decays_while_holding():
    m = PresenceMachine(0, 1000, 0)
    m.update(0, True, 0.7)
    assert m.confidence(0) == 0.7
    m.update(500, False, 1.0)
    assert m.confidence(500) == 0.6  # halfway from 0.7 to 0.5
    m.update(1000, False, 0.8)
    # Vacant after a full hold without presence, but one input was out: not fully sure.
    assert not m.occupied and m.confidence(1000) == 0.8 == m.confidence(5000)
    m.update(6000, False, 1.0)
    assert m.confidence(6000) == 1.0
