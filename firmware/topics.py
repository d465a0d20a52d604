"""Device side of MQTT contract v1: topic names and payload encoding.

The firmware cannot import ``werkplek.contract`` (MicroPython has no access to
the installed package), so this is its own copy of the device topics; the
golden messages in ``tests/contracts/v1`` keep both copies honest.
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
_ID_FIRST = "abcdefghijklmnopqrstuvwxyz0123456789"
_ID_REST = _ID_FIRST + "-"


def is_valid_id(value):
    """Return True when ``value`` matches ``^[a-z0-9][a-z0-9-]{0,62}$`` (no ``re`` needed)."""
    if not isinstance(value, str) or not 1 <= len(value) <= 63:
        return False
    if value[0] not in _ID_FIRST:
        return False
    for ch in value[1:]:
        if ch not in _ID_REST:
            return False
    return True


def device_topic(site, device_id, kind):
    """Return ``werkplek/v1/<site>/<device_id>/<kind>``.

    Raises:
        ValueError: invalid site/device id or unknown kind.
    """
    if kind not in ("presence", "status", "telemetry", "config"):
        raise ValueError("unknown topic kind %r" % (kind,))
    if not is_valid_id(site) or not is_valid_id(device_id):
        raise ValueError("invalid site or device id")
    return "%s/%s/%s/%s" % (PREFIX, site, device_id, kind)


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
        raise ValueError("seq must be an int >= 0")
    if source not in SOURCES:
        raise ValueError("unknown source %r" % (source,))
    msg = {"v": VERSION, "seq": seq, "ts": ts, "occupied": bool(occupied), "source": source}
    if boot is not None:
        if not 0 <= boot <= 0xFFFFFFFF:
            raise ValueError("boot out of range")
        msg["boot"] = boot
    if confidence is not None:
        if not 0 <= confidence <= 1:
            raise ValueError("confidence out of range")
        msg["confidence"] = confidence
    if reason is not None:
        if reason not in REASONS:
            raise ValueError("unknown reason %r" % (reason,))
        msg["reason"] = reason
    return json.dumps(msg, separators=(",", ":"))


def telemetry_payload(uptime_s, rssi, heap_free, battery_v=None, extra=None):
    """Encode one telemetry message as a JSON string (contract v1).

    Args:
        uptime_s: seconds since boot.
        rssi: Wi-Fi signal in dBm, or None without a Wi-Fi link (unix port, simulation).
        heap_free: free heap in bytes, or None where the runtime cannot tell (CPython).
        battery_v: battery voltage, or None on mains power.
        extra: optional dict of further fields (counters, a config report).
    """
    msg = {
        "v": VERSION,
        "uptime_s": int(uptime_s),
        # null, not 0, for an unknown figure: 0 dBm would read as a perfect signal.
        "rssi": None if rssi is None else int(rssi),
        "heap_free": None if heap_free is None else int(heap_free),
        "fw": FW_VERSION,
        "battery_v": None if battery_v is None else round(float(battery_v), 2),
    }
    if extra:
        msg.update(extra)
    return json.dumps(msg, separators=(",", ":"))
