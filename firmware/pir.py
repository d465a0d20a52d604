"""PIR driver: an interrupt on the Pin passed in latches every motion pulse.

Common PIR modules (HC-SR501, AM312) raise their output for a few seconds on
motion. In "retrigger" mode (jumper H) each new motion extends that pulse; in
"single" mode (L) the output drops after the delay even while someone moves,
then ignores motion for ~2.5 s. Polling alone would miss short pulses between
samples and see the single-mode gaps as "nobody". The IRQ stamps every edge;
``value()`` then reports motion while the pin is high or within
``retrigger_ms`` of the last edge (the end of the last pulse), which bridges
those gaps the same way on both module types. Edges during ``warmup_ms`` after
power-up are ignored: the output is unreliable while the pyroelectric element settles.

Memory (docs/firmware.md, "Memory"): the attribute names ``count``, ``end`` and
``start`` are names the runtime already has, so they cost no interned name on
the node's heap; the PIR object itself is the interrupt handler (``__call__``),
which saves a bound method and a method name.
"""

from wp_compat import ticks_add, ticks_diff, ticks_ms


class PIR:
    """Motion input on a GPIO ``Pin`` (``value()``, ``irq(handler, trigger)``).

    Attributes:
        count: edges seen (rising and falling).
        end: ``ticks_ms()`` of the last edge, None when there is none that counts.
        start: ``ticks_ms()`` at which the warm-up ends; None once warm.
    """

    def __init__(self, pin, retrigger_ms=3000, warmup_ms=0):
        self.pin = pin
        self.retrigger_ms = retrigger_ms
        self.count = 0
        self.end = None
        self.start = ticks_add(ticks_ms(), warmup_ms) if warmup_ms else None
        if hasattr(pin, "irq"):  # a simulated input (board_sim) has no interrupt
            # Trigger 3: Pin.IRQ_RISING | Pin.IRQ_FALLING on the ESP32 port (a number, not a
            # const: no import for one use). Positional: the same on ESP32, unix and CPython.
            pin.irq(self, 3)

    def __call__(self, _):
        # The edge interrupt; runs in interrupt context: no allocation, a stamp and a counter.
        self.count += 1
        self.end = ticks_ms()

    def value(self):
        """Return True while the pin is high or an edge came within ``retrigger_ms``."""
        start = self.start
        if start is not None:
            if ticks_diff(ticks_ms(), start) < 0:
                return False
            self.start = None
            self.end = None  # an edge during the warm-up does not count
        if self.pin.value():
            return True
        end = self.end
        if end is None:
            return False
        if ticks_diff(ticks_ms(), end) < self.retrigger_ms:
            return True
        # Forget an old edge: ticks wrap (2**30 ms on MicroPython), so an edge left
        # for ~6 days would look recent again.
        self.end = None
        return False
