"""Unix-port entry point: ``micropython firmware/main_unix.py <config.json>``.

Runs one Node whose presence input is the control file named by the cfg key
``presence_file``. Prints one line per event (``INPUT``, ``STATE``, ``PUB <topic>
<payload>``, ``MQTT ...``) so tests can correlate. Ctrl-C exits with status 0;
SIGTERM/SIGKILL end the process and the broker publishes the ``offline`` Last Will.
"""

import json
import sys

from board_sim import FilePresence
from node import Node
from wp_compat import asyncio


def _log(text):
    print(text)


def main(argv):
    """Load the JSON config named on the command line and run the node forever."""
    if len(argv) < 2:
        print("usage: micropython main_unix.py <config.json>")
        return 2
    with open(argv[1]) as fh:
        cfg = json.load(fh)
    path = cfg.pop("presence_file", None)
    if not path:
        print("config needs presence_file")
        return 2
    node = Node(cfg, FilePresence(path), log=_log)
    print("BOOT %s boot=%d" % (node.cfg["device_id"], node.boot))
    try:
        asyncio.run(node.run())
    except KeyboardInterrupt:
        print("EXIT interrupted")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
