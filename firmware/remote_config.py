"""Remote configuration from the retained ``config`` topic: validate, persist, report.

Payload (JSON, at most 1024 bytes)::

    {"v": 1, "rev": 7, "hold_ms": 900000, "heartbeat_s": 60, "radar_max_still_gate": 3}

Only the keys in ``REMOTE_KEYS`` may be set remotely; broker, credentials and
ids stay local, so no remote message can cut a node off its broker. A config
is checked completely before any of it is used; a bad one is rejected whole
with a reason code from the contract's rejection list. An accepted one is
written to a file so it survives a reboot without the broker; an empty
payload clears it. The same retained payload arriving again after a
reconnect is ignored, which also spares the flash a rewrite per reconnect.

A node receives a config about once a week, so this module (with
``wp_config``) is imported only while one is handled (``apply``,
``reconfigure``) and then dropped from the heap again; the node keeps just the
last payload and revision (``Node.config_raw``, ``Node.config_rev``).
"""

import json
import os

import wp_config
from wp_compat import asyncio, const

#: Remotely settable keys and their inclusive ranges.
REMOTE_KEYS = {
    "confirm_ms": (0, 60000),
    "hold_ms": (1000, 14400000),
    "heartbeat_s": (10, 3600),
    "telemetry_s": (10, 86400),
    "radar_max_move_gate": (2, 8),
    "radar_max_still_gate": (2, 8),
    "radar_idle_s": (0, 600),
    "radar_max_cm": (30, 600),
    "radar_min_energy": (0, 100),
}
_MAX_BYTES = const(1024)  # the largest config payload (bytes)


class ConfigError(ValueError):
    """A rejected config; ``rev`` is its revision when it could be read, else None."""

    def __init__(self, reason, rev=None):
        super().__init__(reason)
        self.reason = reason
        self.rev = rev

    def __str__(self):
        return self.reason


def parse(raw):
    """Return ``(rev, settings)`` from a config payload.

    Raises:
        ConfigError: ``"<reason>: <detail>"`` with a contract reason code
            (``too_large``, ``bad_json``, ``not_object``, ``bad_version``,
            ``unknown_key``, ``bad_type``, ``out_of_range``).
    """
    if len(raw) > _MAX_BYTES:
        raise ConfigError("too_large: %d bytes" % len(raw))
    try:
        data = json.loads(bytes(raw))
    except Exception:  # noqa: BLE001 - ValueError or UnicodeError, depending on the runtime
        raise ConfigError("bad_json: not UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise ConfigError("not_object: config must be a JSON object")
    rev = data.get("rev", 0)
    if not _is_int(rev) or rev < 0:
        raise ConfigError("bad_type: rev must be an int >= 0")
    if data.get("v") != 1:
        raise ConfigError("bad_version: v must be 1", rev)
    settings = {}
    for key in data:
        if key in ("v", "rev"):
            continue
        if key not in REMOTE_KEYS:
            raise ConfigError("unknown_key: %s" % key[:40], rev)
        value = data[key]
        if not _is_int(value):
            raise ConfigError("bad_type: %s must be an int" % key, rev)
        low, high = REMOTE_KEYS[key]
        if not low <= value <= high:
            raise ConfigError("out_of_range: %s must be %d..%d" % (key, low, high), rev)
        settings[key] = value
    return rev, settings


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def merge(local_cfg, settings):
    """Return the full config: the local one with ``settings`` on top, checked as a whole.

    Raises:
        ValueError: the combination is invalid (e.g. confirm time not below hold time).
    """
    merged = dict(local_cfg)
    merged.update(settings)
    try:
        cfg = wp_config.build_config(merged)
    except ValueError as exc:
        raise ValueError("out_of_range: %s" % exc) from None
    if cfg["confirm_ms"] >= cfg["hold_ms"]:
        raise ValueError("out_of_range: confirm_ms must be below hold_ms")
    return cfg


class RemoteConfig:
    """State of the remote config of one node: last payload, applied rev, persisted file."""

    def __init__(self, path=None):
        self.path = path
        self.raw = None
        self.rev = None

    def load(self):
        """Return the persisted payload, or None (no file, or unreadable)."""
        if not self.path:
            return None
        try:
            with open(self.path, "rb") as fh:
                return fh.read(_MAX_BYTES + 1)
        except OSError:
            return None

    def save(self, raw):
        """Persist ``raw`` atomically (write a temp file, then rename); empty removes the file."""
        if not self.path:
            return
        if not raw:
            try:
                os.remove(self.path)
            except OSError:
                pass
            return
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as fh:
            fh.write(raw)
        try:
            os.rename(tmp, self.path)
        except OSError:  # FAT cannot rename over a file; littlefs and unix can
            os.remove(self.path)
            os.rename(tmp, self.path)

    def handle(self, raw, local_cfg):
        """Judge one config payload against the local config.

        Returns:
            None when it is the payload already in force, else
            ``(status, rev, cfg, error)``: ``("applied", rev, cfg, None)``,
            ``("cleared", None, local cfg, None)`` or ``("rejected", rev or None, None, reason)``.
        """
        raw = bytes(raw)
        if raw == self.raw:
            return None
        self.raw = raw
        if not raw:
            self.rev = None
            return "cleared", None, wp_config.build_config(local_cfg), None
        rev = None
        try:
            rev, settings = parse(raw)
            cfg = merge(local_cfg, settings)
        except ConfigError as exc:
            return "rejected", exc.rev, None, exc.reason
        except ValueError as exc:  # the combination with the local config is invalid
            return "rejected", rev, None, str(exc)
        self.rev = rev
        return "applied", rev, cfg, None


def restore(node):
    """Apply the config saved on the board (``config_file``), if any: at start-up, before the
    broker is reached (its verdict goes out with the first telemetry after the connect)."""
    raw = RemoteConfig(node.cfg["config_file"]).load()
    if raw:
        apply(node, raw, persist=False)


def apply(node, raw, persist=True):
    """Judge ``raw`` for ``node``; apply (and persist) it or reject it, then report the verdict.

    ``persist`` is False for the copy read from the file at start-up: it is
    already saved, and no loop runs yet to send the report.
    """
    rc = RemoteConfig(node.cfg["config_file"])
    rc.raw, rc.rev = node.config_raw, node.config_rev
    # The local config: what a remote config cannot set is the same in the config in
    # force; the local values of ``REMOTE_KEYS`` are in ``node.local_cfg`` (see ``_use``).
    local = dict(node.cfg)
    if node.local_cfg is not None:
        local.update(zip(sorted(REMOTE_KEYS), node.local_cfg))  # noqa: B905 - MicroPython
    verdict = rc.handle(raw, local)
    node.config_raw, node.config_rev = rc.raw, rc.rev
    if verdict is None:
        return
    status, rev, cfg, error = verdict
    report = {"status": status, "rev": rev}
    if status == "rejected":
        report["error"] = error
        node.say("CONFIG rejected rev=%r: %s" % (rev, error))
    else:
        _use(node, cfg, persist)
        if persist:
            try:
                rc.save(bytes(raw))
            except OSError as exc:  # full or read-only flash: still applied until reboot
                node.say("CONFIG not saved: %r" % (exc,))
        node.say("CONFIG %s rev=%r" % (status, rev))
    node.config_report = report
    if persist:
        node.telemetry_soon(report)


def _use(node, cfg, running):
    # At start-up (``running`` False) no loop runs yet; ``Node.run()`` configures the radar.
    old = node.cfg
    if node.local_cfg is None:
        # The first remote config: keep only the local values it may override, as a
        # tuple in the order of the sorted keys (not a second config dict, nor even a
        # small one, on the node's heap for as long as it runs).
        node.local_cfg = tuple(old[key] for key in sorted(REMOTE_KEYS))
    node.cfg = cfg
    node.machine.confirm_ms = cfg["confirm_ms"]
    node.machine.hold_ms = cfg["hold_ms"]
    radar = getattr(node.sensor, "radar", None)
    if radar is None:
        return
    # The host-side filters take effect at once; the gate limits are sent to the radar.
    radar.max_cm = cfg.get("radar_max_cm")
    radar.min_energy = cfg.get("radar_min_energy", 0)
    keys = ("radar_max_move_gate", "radar_max_still_gate", "radar_idle_s")
    changed = any(old[k] != cfg[k] for k in keys)
    if running and changed:
        asyncio.create_task(reconfigure(node, cfg))


async def reconfigure(node, cfg):
    """Send the radar of ``node`` its gate limits when ``cfg`` sets any; a refusal is logged."""
    move, still = cfg.get("radar_max_move_gate"), cfg.get("radar_max_still_gate")
    radar = getattr(node.sensor, "radar", None)
    if radar is None or (move is None and still is None):
        return
    import ld2410_cmd  # drops itself again when done

    try:
        await ld2410_cmd.configure(radar, move or 8, still or 8, cfg.get("radar_idle_s", 0))
        node.say("RADAR configured")
    except Exception as exc:  # noqa: BLE001 - a radar that refuses keeps its old limits
        node.stats["sensor_errors"] += 1
        node.say("RADAR configuration failed: %r" % (exc,))
