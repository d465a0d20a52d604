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
"""

from wp_compat import ticks_diff, ticks_ms

IRQ_BOTH = 3  # machine.Pin.IRQ_RISING | machine.Pin.IRQ_FALLING on the ESP32 port


class PIR:
    """Motion input on a GPIO ``Pin`` (``value()``, ``irq(handler=, trigger=)``)."""

    def __init__(self, pin, retrigger_ms=3000, warmup_ms=0, trigger=IRQ_BOTH):
        self.pin = pin
        self.retrigger_ms = retrigger_ms
        self.edges = 0
        self._last_edge = None
        self._ready_at = ticks_ms() if not warmup_ms else None
        self._start = ticks_ms()
        self._warmup_ms = warmup_ms
        if hasattr(pin, "irq"):
            pin.irq(handler=self._on_edge, trigger=trigger)

    def _on_edge(self, _pin):
        # Runs in interrupt context: no allocation, just a stamp and a counter.
        self.edges += 1
        self._last_edge = ticks_ms()

    def warm(self):
        """Return True once the warm-up time since construction has passed."""
        if self._ready_at is None:
            if ticks_diff(ticks_ms(), self._start) < self._warmup_ms:
                return False
            self._ready_at = ticks_ms()
        return True

    def value(self):
        """Return True while the pin is high or an edge came within ``retrigger_ms``."""
        if not self.warm():
            return False
        if self.pin.value():
            return True
        last = self._last_edge
        if last is None or ticks_diff(last, self._ready_at) < 0:
            return False
        return ticks_diff(ticks_ms(), last) < self.retrigger_ms
