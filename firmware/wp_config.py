"""Node configuration: committed defaults, merged with a site/device dict, checked at start.

Named ``wp_config`` (not ``config``) so it never shadows another module when
``firmware/`` is put on ``sys.path`` next to installed packages.

Only needed while a node starts, judges a remote config or shuts down
(``shutdown``): ``Node`` imports it then and drops it again
(``wp_compat.unload``), so its tables are not on the heap in the steady state.
The id rules and topic names of the contract, and which config key goes to
which MQTT client setting (``mqtt_client``), live here for the same reason.
"""

import os

from mqtt import MQTTClient, MQTTError
from wp_compat import asyncio, const, wait_for_ms

# Contract v1 values (as in ``node``; private consts are not interned on the heap).
_PREFIX = const("werkplek/v1")
_SOURCES = const(("pir", "radar", "fused"))

#: (space type or registry kind, confirm_ms, hold_ms). A desk is held longer because
#: people sit still behind a screen (vendors use ~12 min for desks, ~5 min for rooms);
#: a room confirms more slowly so someone looking through the door is no meeting. A
#: ``const`` tuple: its names are not interned on the node's heap.
_SPACE_DEFAULTS = const(
    (
        ("desk", 2000, 600000),
        ("room", 5000, 300000),
        ("focus_room", 5000, 300000),
        ("meeting_room", 5000, 300000),
    )
)

_ID_FIRST = const(b"abcdefghijklmnopqrstuvwxyz0123456789")

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
    "confirm_ms": None,  # default per space type (SPACE_DEFAULTS)
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

#: Optional keys, not in ``DEFAULTS`` so that a plain node's config dict stays as small
#: as before: ``ca_file``, the CA certificate (DER) on the device's flash (set: the node
#: speaks only TLS, ``broker_port`` then usually 8883), and ``tls_hostname``, the name the
#: broker's certificate must carry (default ``broker_host``). See docs/firmware.md, "TLS".
TLS_KEYS = const(("ca_file", "tls_hostname"))

#: Keys that may be None or an int within a range: (key, low, high).
_OPTIONAL_INTS = const(
    (
        ("radar_max_move_gate", 2, 8),
        ("radar_max_still_gate", 2, 8),
        ("radar_max_cm", 0, 10000),
    )
)

_POSITIVE_INTS = const(
    (
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
    if out["source"] not in _SOURCES:
        raise ValueError("config source must be one of %r" % (_SOURCES,))
    confirm_ms, hold_ms = space_defaults(out["space_type"])
    if out["confirm_ms"] is None:
        out["confirm_ms"] = confirm_ms
    if out["hold_ms"] is None:
        out["hold_ms"] = hold_ms
    if out["client_id"] is None:
        out["client_id"] = "wp-" + out["device_id"]
    for key in TLS_KEYS:
        if not isinstance(out.get(key) or "", str):
            raise ValueError("config %s must be a str" % key)
    for key in _POSITIVE_INTS + ("confirm_ms", "hold_ms"):
        value = out[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError("config %s must be an int >= 0" % key)
    for key in _POSITIVE_INTS:
        if out[key] == 0:
            raise ValueError("config %s must be > 0" % key)
    for key, low, high in _OPTIONAL_INTS:
        value = out[key]
        if value is not None and (not _is_int(value) or not low <= value <= high):
            raise ValueError("config %s must be None or an int %d..%d" % (key, low, high))
    for key, high in (("radar_idle_s", 65535), ("radar_min_energy", 100)):
        if not _is_int(out[key]) or not 0 <= out[key] <= high:
            raise ValueError("config %s must be an int 0..%d" % (key, high))
    return out


def rand32():
    """Return a random 32-bit unsigned int from the OS/hardware RNG (distinct per boot)."""
    return int.from_bytes(os.urandom(4), "big")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def space_defaults(space_type):
    """Return ``(confirm_ms, hold_ms)`` for a space type or registry kind.

    Raises:
        ValueError: unknown space type.
    """
    for kind, confirm_ms, hold_ms in _SPACE_DEFAULTS:
        if kind == space_type:
            return confirm_ms, hold_ms
    raise ValueError("unknown space_type %r" % (space_type,))


def is_valid_id(value):
    """Return True when ``value`` matches ``^[a-z0-9][a-z0-9-]{0,62}$`` (no ``re`` needed)."""
    if not isinstance(value, str) or not 1 <= len(value) <= 63:
        return False
    # Compared as bytes: on MicroPython a one-character str is interned, so walking a
    # str would add up to 37 names to the heap for good.
    data = value.encode()
    if data[0] not in _ID_FIRST:
        return False
    for byte in data[1:]:
        if byte != 45 and byte not in _ID_FIRST:  # 45: "-"
            return False
    return True


def topic_base(site, device_id):
    """Return ``werkplek/v1/<site>/<device_id>/``: a device topic is this plus its kind.

    Raises:
        ValueError: invalid site or device id.
    """
    if not is_valid_id(site) or not is_valid_id(device_id):
        raise ValueError("invalid site or device id")
    return "%s/%s/%s/" % (_PREFIX, site, device_id)


def device_topic(site, device_id, name):
    """Return ``werkplek/v1/<site>/<device_id>/<name>``.

    Raises:
        ValueError: invalid site/device id or unknown kind.
    """
    if name not in ("presence", "status", "telemetry", "config"):
        raise ValueError("unknown topic kind %r" % (name,))
    return topic_base(site, device_id) + name


def tls_of(c):
    """Return the client's ``tls`` argument for config ``c``: None (plain) or (CA file, host)."""
    if not c.get("ca_file"):
        return None
    return c["ca_file"], c.get("tls_hostname") or c["broker_host"]


def mqtt_client(c, base, opener=None, log=None):
    """Return the ``MQTTClient`` of a node with config ``c`` and topic base ``base``.

    Its Last Will is the retained ``offline`` on ``<base>status``, its birth message
    the retained ``online`` (both QoS 1). Here, not in ``Node.__init__``: the long
    config key names are string objects in the code that uses them, and this module
    is dropped once the node runs.
    """
    status = base + "status"
    return MQTTClient(
        c["client_id"],
        c["broker_host"],
        c["broker_port"],
        c["username"],
        c["password"],
        c["keepalive_s"],
        will=(status, "offline", True),
        birth=(status, "online", True),
        connect_timeout_ms=c["connect_timeout_ms"],
        io_timeout_ms=c["io_timeout_ms"],
        ack_timeout_ms=c["ack_timeout_ms"],
        backoff_min_ms=c["backoff_min_ms"],
        backoff_max_ms=c["backoff_max_ms"],
        opener=opener,
        log=log,
        tls=tls_of(c),
    )


async def shutdown(node):
    """Publish the retained ``offline`` status (waiting for its PUBACK), then disconnect.

    Once in a node's life (``Node.run`` after ``stop()``): here with the start-up code,
    so it is on the heap only then.
    """
    client = node.client
    status = node.topic_base + "status"
    if client.connected:
        try:
            await wait_for_ms(
                client.publish(status, "offline", 1, True),
                node.cfg["io_timeout_ms"],
            )
            node.say("PUB %s %s" % (status, "offline"))
        except (asyncio.TimeoutError, MQTTError) as exc:
            node.say("offline status not acknowledged: %r" % (exc,))
    await client.close()
