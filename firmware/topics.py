"""Device side of MQTT contract v1: the presence payload and the contract's constants.

The firmware cannot import ``werkplek.contract`` (MicroPython has no access to
the installed package), so this is its own copy of the device messages; the
golden messages in ``tests/contracts/v1`` keep both copies honest. Only what
every message needs is here: the id rules and topic names are used once at
start-up and live in ``wp_config``, the telemetry payload in ``node_reports``;
neither is kept on the heap.
"""

import json

PREFIX = "werkplek/v1"
VERSION = 1
SOURCES = ("pir", "radar", "fused")
REASONS = ("change", "heartbeat")
STATUS_ONLINE = "online"
STATUS_OFFLINE = "offline"
MAX_PAYLOAD_BYTES = 1024
FW_VERSION = "0.2.0"


def presence_payload(seq, boot, ts, occupied, source, confidence=None, reason=None):
    """Encode one presence message as a JSON string (contract v1).

    Args:
        seq: message counter, 0 after boot, +1 per presence message.
        boot: random 32-bit id of this boot, or None to omit.
        ts: unix ms of the event, or None when the clock is not set.
        occupied: debounced state.
        source: "pir", "radar" or "fused".
        confidence: optional 0..1.
        reason: optional "change" or "heartbeat".

    Raises:
        ValueError: a field is out of the contract's range.
    """
    if not isinstance(seq, int) or seq < 0:
        raise ValueError("seq")
    if source not in SOURCES:
        raise ValueError("source %r" % (source,))
    msg = {"v": VERSION, "seq": seq, "ts": ts, "occupied": bool(occupied), "source": source}
    if boot is not None:
        if not 0 <= boot <= 0xFFFFFFFF:
            raise ValueError("boot")
        msg["boot"] = boot
    if confidence is not None:
        if not 0 <= confidence <= 1:
            raise ValueError("confidence")
        msg["confidence"] = confidence
    if reason is not None:
        if reason not in REASONS:
            raise ValueError("reason %r" % (reason,))
        msg["reason"] = reason
    return json.dumps(msg, separators=(",", ":"))
