"""Fuse a PIR and an LD2410 radar into one presence sample with an evidence weight.

Why both: a PIR sees motion well but misses a person sitting still; the radar
sees the breathing of a still person but also weak reflections. Presence is
"either sees someone", so a still person seen only by the radar keeps the
space occupied. The evidence (0..1) says how strong the sample is: both
inputs agreeing is near-certain, a lone weak radar echo is not. The presence
machine turns that into the confidence of each message.
"""

#: Evidence of a PIR pulse on its own (PIRs also fire on warm air and sunlight).
PIR_EVIDENCE = 0.8


def radar_evidence(move_energy, still_energy):
    """Return the evidence of a radar reading: moving 0.6..0.9, still 0.5..0.9 by energy."""
    move = 0.6 + 0.3 * move_energy / 100 if move_energy else 0.0
    still = 0.5 + 0.4 * still_energy / 100 if still_energy else 0.0
    return move if move > still else still


class Fusion:
    """Presence from a PIR and/or a radar; ``value()`` also sets ``evidence`` and ``source``.

    Its telemetry counters are read by ``node_reports.sensor_stats``; a remote
    config reaches the radar through ``remote_config`` (both loaded only then).

    A failing input is counted in ``errors`` and the other one carries on; when
    every configured input fails the read raises, so the node goes silent rather
    than reporting a desk as free.
    """

    def __init__(self, pir=None, radar=None):
        if pir is None and radar is None:
            raise ValueError("no input")
        self.pir = pir
        self.radar = radar
        self.evidence = 1.0
        self.source = "fused" if pir is not None and radar is not None else None
        self.kind = self.source or ("pir" if pir is not None else "radar")
        self.errors = {"pir": 0, "radar": 0}

    def value(self):
        """Sample both inputs; return True when either sees presence.

        Raises:
            OSError: every configured input failed this sample.
        """
        pir_seen = radar_seen = None
        failure = None
        if self.pir is not None:
            try:
                pir_seen = bool(self.pir.value())
            except Exception as exc:  # noqa: BLE001 - one broken input must not blind the other
                self.errors["pir"] += 1
                failure = exc
        radar_ev = 0.0
        if self.radar is not None:
            try:
                move, still = self.radar.targets()
                radar_ev = radar_evidence(move, still)
                radar_seen = radar_ev > 0
            except Exception as exc:  # noqa: BLE001
                self.errors["radar"] += 1
                failure = exc
        if pir_seen is None and radar_seen is None:
            raise OSError("inputs %r" % (failure,))
        if pir_seen and radar_seen:
            # Two independent inputs that both see someone: both wrong is (1-a)(1-b).
            self.evidence = round(1 - (1 - PIR_EVIDENCE) * (1 - radar_ev), 2)
            self.source = "fused"
        elif pir_seen:
            self.evidence, self.source = PIR_EVIDENCE, "pir"
        elif radar_seen:
            self.evidence, self.source = round(radar_ev, 2), "radar"
        else:
            # Nobody seen: the absence is as sure as the inputs that still work.
            both = pir_seen is not None and radar_seen is not None
            self.evidence = 1.0 if both or self.kind != "fused" else 0.8
            self.source = self.kind
        return bool(pir_seen or radar_seen)
