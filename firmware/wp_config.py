"""Node configuration: committed defaults, merged with a site/device dict, checked at start.

Named ``wp_config`` (not ``config``) so it never shadows another module when
``firmware/`` is put on ``sys.path`` next to installed packages.
"""

from presence import space_defaults
from topics import SOURCES, is_valid_id

#: Every key a node understands; ``None`` means "derived" (see ``build_config``).
DEFAULTS = {  # type: dict
    "device_id": None,  # required, e.g. "d-0001"
    "site": None,  # required, e.g. "hq"
    "broker_host": "127.0.0.1",
    "broker_port": 1883,
    "username": None,
    "password": None,
    "client_id": None,  # default "wp-" + device_id
    "source": "pir",  # "pir" | "radar" | "fused"
    "space_type": "desk",  # "desk" | "room" (also "focus_room", "meeting_room")
    "confirm_ms": None,  # default per space type (presence.SPACE_DEFAULTS)
    "hold_ms": None,  # default per space type
    "heartbeat_s": 60,
    "keepalive_s": 60,
    "clock_set": True,  # False: ts is sent as null (clock not trusted yet)
    "poll_ms": 50,
    "buffer_size": 64,  # events kept while offline; the oldest is dropped first
    "backoff_min_ms": 500,
    "backoff_max_ms": 30000,
    "connect_timeout_ms": 5000,
    "io_timeout_ms": 5000,
    "ack_timeout_ms": 10000,
    "telemetry_s": 300,  # health message interval
    "config_file": None,  # where an accepted remote config is kept; None = not persisted
    "radar_max_move_gate": None,  # farthest gate (x 0.75 m) for moving targets; None = radar's own
    "radar_max_still_gate": None,  # farthest gate for still targets (keep the next desk out)
    "radar_idle_s": 0,  # the radar's own no-one time; our hold time does the holding
    "radar_max_cm": None,  # ignore targets farther than this (host-side filter)
    "radar_min_energy": 0,  # ignore targets weaker than this (0..100)
}

#: Keys that may be None or an int within a range.
_OPTIONAL_INTS = {
    "radar_max_move_gate": (2, 8),
    "radar_max_still_gate": (2, 8),
    "radar_max_cm": (0, 10000),
}

_POSITIVE_INTS = (
    "broker_port",
    "heartbeat_s",
    "keepalive_s",
    "poll_ms",
    "buffer_size",
    "backoff_min_ms",
    "backoff_max_ms",
    "connect_timeout_ms",
    "io_timeout_ms",
    "ack_timeout_ms",
    "telemetry_s",
)


def build_config(cfg):
    """Return a complete config dict: defaults, then ``cfg``, then derived values.

    Unknown keys are kept (boards add their own, e.g. ``presence_file``).

    Raises:
        ValueError: a required key is missing or a value is invalid.
    """
    out = dict(DEFAULTS)
    out.update(cfg)
    for key in ("device_id", "site"):
        if not is_valid_id(out[key]):
            raise ValueError("config %s=%r is not a valid id" % (key, out[key]))
    if out["source"] not in SOURCES:
        raise ValueError("config source must be one of %r" % (SOURCES,))
    confirm_ms, hold_ms = space_defaults(out["space_type"])
    if out["confirm_ms"] is None:
        out["confirm_ms"] = confirm_ms
    if out["hold_ms"] is None:
        out["hold_ms"] = hold_ms
    if out["client_id"] is None:
        out["client_id"] = "wp-" + out["device_id"]
    for key in _POSITIVE_INTS + ("confirm_ms", "hold_ms"):
        value = out[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError("config %s must be an int >= 0" % key)
    for key in _POSITIVE_INTS:
        if out[key] == 0:
            raise ValueError("config %s must be > 0" % key)
    for key, (low, high) in _OPTIONAL_INTS.items():
        value = out[key]
        if value is not None and (not _is_int(value) or not low <= value <= high):
            raise ValueError("config %s must be None or an int %d..%d" % (key, low, high))
    for key, high in (("radar_idle_s", 65535), ("radar_min_energy", 100)):
        if not _is_int(out[key]) or not 0 <= out[key] <= high:
            raise ValueError("config %s must be an int 0..%d" % (key, high))
    return out


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)
