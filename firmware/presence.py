"""Pure presence state machine: raw sensor samples in, debounced occupied/vacant out.

Why: a PIR fires on a passer-by and stays silent while someone sits still. We
only call a space occupied after presence has been seen continuously for
``confirm_ms``, and only call it vacant again after ``hold_ms`` without any
presence. No I/O here: the caller passes ``now_ms`` (a ``ticks_ms`` value), so
the hold-time logic is tested exhaustively on CPython. The defaults per space
type are in ``wp_config``.
"""

from wp_compat import ticks_diff


class PresenceMachine:
    """Debounce raw presence samples into an occupied/vacant state.

    States: vacant, pending (presence seen, not yet for ``confirm_ms``),
    occupied, holding (occupied, no presence since ``last_seen``).
    """

    def __init__(self, confirm_ms, hold_ms, now_ms):
        if confirm_ms < 0 or hold_ms < 0:
            raise ValueError("ms < 0")
        self.confirm_ms = confirm_ms
        self.hold_ms = hold_ms
        self.occupied = False
        self.since_ms = now_ms
        self._start_ms = now_ms
        self._first_seen = None
        self._last_seen = None
        self._seen_evidence = 1.0  # evidence of the last sample that saw presence
        self._absent_evidence = 1.0  # how sure the last sample without presence was

    @property
    def state(self):
        """Return the detailed state name: vacant, pending, occupied or holding."""
        if self.occupied:
            return "holding" if self._first_seen is None else "occupied"
        return "vacant" if self._first_seen is None else "pending"

    def update(self, now_ms, present, evidence=1.0):
        """Feed one sample; return True when ``occupied`` changed with this sample.

        ``evidence`` (0..1) is how strong the sample is (see ``fusion``); it only
        shapes ``confidence()``, never the state.
        """
        if present:
            if self._first_seen is None:
                self._first_seen = now_ms
            self._last_seen = now_ms
            self._seen_evidence = evidence
        else:
            self._first_seen = None
            self._absent_evidence = evidence
        if not self.occupied:
            if present and ticks_diff(now_ms, self._first_seen) >= self.confirm_ms:
                self.occupied = True
                self.since_ms = now_ms
                return True
            return False
        if not present and ticks_diff(now_ms, self._last_seen) >= self.hold_ms:
            self.occupied = False
            self.since_ms = now_ms
            return True
        return False

    def confidence(self, now_ms):
        """Return how sure we are of the current ``occupied`` value, in ``[0, 1]``.

        Occupied with presence now: the sample's evidence (1.0 for a plain input),
        decaying to 0.5 as the hold time runs out. Vacant: 0.5 while presence is
        pending or right after boot, rising to the evidence of absence (1.0 for a
        plain input) once no presence has been seen for a full hold time.
        """
        if self.occupied:
            seen = max(self._seen_evidence, 0.5)
            if self._first_seen is not None:
                return round(seen, 2)
            return _ramp(seen, 0.5, ticks_diff(now_ms, self._last_seen), self.hold_ms)
        if self._first_seen is not None:
            return 0.5
        ref = self._last_seen if self._last_seen is not None else self._start_ms
        absent = max(self._absent_evidence, 0.5)
        return _ramp(0.5, absent, ticks_diff(now_ms, ref), self.hold_ms)


def _ramp(start, end, elapsed, span):
    """Interpolate linearly from ``start`` to ``end`` over ``span`` ms, rounded to 0.01."""
    if span <= 0 or elapsed >= span:
        value = end
    elif elapsed <= 0:
        value = start
    else:
        value = start + (end - start) * elapsed / span
    return round(value, 2)
