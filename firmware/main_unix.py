"""Unix-port entry point: ``micropython firmware/main_unix.py <config.json>``.

Runs one Node whose presence input is the control file named by the cfg key
``presence_file`` (a plain input, or the PIR pin), and/or a simulated LD2410
fed from ``radar_file`` (see ``board_sim.SimUART``). Prints one line per event
(``INPUT``, ``STATE``, ``PUB <topic> <payload>``, ``MQTT ...``) so tests can
correlate. Ctrl-C exits with status 0; SIGTERM/SIGKILL end the process and the
broker publishes the ``offline`` Last Will.
"""

import json
import sys

from board_sim import FilePresence, SimUART
from ld2410 import LD2410
from node import Fusion, Node
from pir import PIR
from wp_compat import asyncio


def _log(text):
    print(text)


def make_sensor(cfg):
    """Return the simulated input(s) named in ``cfg`` (keys are removed); None if there are none.

    ``presence_file`` alone: a plain input. ``radar_file``: the real LD2410 driver
    on a simulated UART; with both, the PIR and radar are fused.
    """
    pir_path = cfg.pop("presence_file", None)
    radar_path = cfg.pop("radar_file", None)
    if not radar_path:
        return FilePresence(pir_path) if pir_path else None
    radar = LD2410(
        SimUART(radar_path),
        max_cm=cfg.get("radar_max_cm"),
        min_energy=cfg.get("radar_min_energy", 0),
    )
    pir = PIR(FilePresence(pir_path), retrigger_ms=0) if pir_path else None
    cfg["source"] = "fused" if pir else "radar"
    return Fusion(pir, radar)


def main(argv):
    """Load the JSON config named on the command line and run the node forever."""
    if len(argv) < 2:
        print("usage: micropython main_unix.py <config.json>")
        return 2
    with open(argv[1]) as fh:
        cfg = json.load(fh)
    sensor = make_sensor(cfg)
    if sensor is None:
        print("config needs presence_file and/or radar_file")
        return 2
    node = Node(cfg, sensor, log=_log)
    print("BOOT %s boot=%d" % (node.cfg["device_id"], node.boot))
    try:
        asyncio.run(node.run())
    except KeyboardInterrupt:
        print("EXIT interrupted")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
