"""The node's telemetry message, built now and then (``Node.telemetry_soon`` sends it).

Telemetry goes out every ``telemetry_s`` (QoS 0, as the contract says) and once
after every connect. A remote config's verdict (``remote_config.apply``) goes
out at once as a telemetry message with a ``config`` field (QoS 1, so a
rejection is not lost), because a device may publish only on its own presence,
status and telemetry topics.

``Node.telemetry_soon`` imports this module to build one message and drops it
again (``wp_compat.unload``) before the message is sent: with the default period
of 5 minutes, the few milliseconds an import takes are cheaper than keeping the
code on the heap.
"""

import gc
from json import dumps

from wp_compat import const

#: The firmware version reported in telemetry (contract field ``fw``).
_FW_VERSION = const("0.2.0")


def telemetry(node, config_report=None):
    """Return the telemetry payload (JSON) with the board's figures and the node's counters.

    Written with format strings, not a dict for ``json.dumps``: a telemetry message
    is the node's largest regular one, and while it is built every byte counts on top
    of the steady heap (docs/firmware.md, "Memory").
    """
    board = node.board
    gauges = []
    for name in ("rssi", "heap_free", "battery_v"):
        # ``board.<name>()``, or None when the board has no such gauge or it fails.
        getter = getattr(board, name, None)
        try:
            gauges.append(None if getter is None else getter())
        except Exception:  # noqa: BLE001 - a failing gauge must not stop the report
            gauges.append(None)
    rssi, heap, battery_v = gauges
    if heap is None and hasattr(gc, "mem_free"):
        heap = gc.mem_free()
    stats = node.stats
    extra = ',"sent":%d,"dropped":%d,"sensor_errors":%d,"reconnects":%d,"config_rev":%s' % (
        stats["sent"],
        stats["dropped"],
        stats["sensor_errors"],
        max(0, node.client.stats["connects"] - 1),
        dumps(node.config_rev),
    )
    # Counters of a ``node.Fusion`` (none for a plain input).
    sensor = node.sensor
    errors = getattr(sensor, "errors", None)
    if isinstance(errors, dict):
        extra += ',"pir_errors":%d,"radar_errors":%d' % (errors["pir"], errors["radar"])
        radar = sensor.radar
        if radar is not None:
            extra += ',"radar_frames":%d,"radar_bad_frames":%d' % (radar.frames, radar.errors)
    if config_report is not None:
        extra += ',"config":' + dumps(config_report)
    return telemetry_payload(node.uptime_s(), rssi, heap, battery_v, extra)


def telemetry_payload(uptime_s, rssi, heap_free, battery_v=None, extra=""):
    """Encode one telemetry message as a JSON string (contract v1).

    Args:
        uptime_s: seconds since boot.
        rssi: Wi-Fi signal in dBm, or None without a Wi-Fi link (unix port, simulation).
        heap_free: free heap in bytes, or None where the runtime cannot tell (CPython).
        battery_v: battery voltage, or None on mains power.
        (A figure outside the contract's range, from a broken gauge, is written as null.)
        extra: further members, already encoded, each starting with a comma
            (``',"sent":3'``): counters, a config report.
    """
    # null, not 0, for an unknown figure: 0 dBm would read as a perfect signal. A figure
    # outside the contract's range (a broken gauge) is unknown too: the gateway would
    # refuse the whole message for it (see the golden telemetry messages).
    return '{"v":1,"uptime_s":%d,"rssi":%s,"heap_free":%s,"fw":"%s","battery_v":%s%s}' % (
        int(uptime_s),
        dumps(int(rssi) if rssi is not None and -200 <= rssi <= 50 else None),
        dumps(int(heap_free) if heap_free is not None and heap_free >= 0 else None),
        _FW_VERSION,
        dumps(
            round(float(battery_v), 2) if battery_v is not None and 0 <= battery_v <= 100 else None
        ),
        extra,
    )
