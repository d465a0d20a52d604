"""Fuse a PIR and an LD2410 radar into one presence sample with an evidence weight.

Why both: a PIR sees motion well but misses a person sitting still; the radar
sees the breathing of a still person but also weak reflections. Presence is
"either sees someone", so a still person seen only by the radar keeps the
space occupied. The evidence (0..1) says how strong the sample is: both
inputs agreeing is near-certain, a lone weak radar echo is not. The presence
machine turns that into the confidence of each message.
"""

# The evidence of a PIR pulse on its own is 0.8 (PIRs also fire on warm air and
# sunlight). Written as a number where it is used: a ``const`` would cost this module
# an import and a global on the node's heap (docs/firmware.md, "Memory").


class Fusion:
    """Presence from a PIR and/or a radar; ``value()`` also sets ``evidence`` and ``source``.

    Its telemetry counters are read by ``node_reports.telemetry``; a remote
    config reaches the radar through ``remote_config`` (both loaded only then).

    A failing input is counted in ``errors`` and the other one carries on; when
    every configured input fails the read raises, so the node goes silent rather
    than reporting a desk as free.
    """

    def __init__(self, pir=None, radar=None):
        if pir is None and radar is None:
            raise ValueError("no input")  # a short code: see docs/firmware.md, section 5
        self.pir = pir
        self.radar = radar
        # The inputs configured, the source of an absence: "fused", "pir" or "radar".
        self.mode = "radar" if pir is None else "pir" if radar is None else "fused"
        self.evidence = 1.0
        self.source = None  # until the first sample
        self.errors = {"pir": 0, "radar": 0}

    def value(self):
        """Sample both inputs; return True when either sees presence.

        Raises:
            Exception: the error of the last input when every configured input failed.
        """
        # The evidence of each input's sample: 0.0 sees nobody, None failed or absent.
        pir = radar = failure = None
        if self.pir is not None:
            try:
                pir = 0.8 if self.pir.value() else 0.0
            except Exception as exc:  # noqa: BLE001 - one broken input must not blind the other
                self.errors["pir"] += 1
                failure = exc
        if self.radar is not None:
            try:
                move, still = self.radar.read()
                # The evidence of a radar reading: moving 0.6..0.9, still 0.5..0.9 by energy.
                move = 0.6 + 0.3 * move / 100 if move else 0.0
                still = 0.5 + 0.4 * still / 100 if still else 0.0
                radar = move if move > still else still
            except Exception as exc:  # noqa: BLE001
                self.errors["radar"] += 1
                failure = exc
        if pir is None and radar is None:
            assert failure is not None  # for the type checker (-O3 drops it)
            raise failure
        if pir and radar:
            # Two independent inputs that both see someone: both wrong is (1-a)(1-b).
            self.evidence = round(1 - (1 - pir) * (1 - radar), 2)
            self.source = "fused"
        elif pir:
            self.evidence, self.source = pir, "pir"
        elif radar:
            self.evidence, self.source = round(radar, 2), "radar"
        else:
            # Nobody seen: the absence is as sure as the inputs that still work.
            self.evidence = 1.0 if failure is None else 0.8
            self.source = self.mode
        return bool(pir or radar)
