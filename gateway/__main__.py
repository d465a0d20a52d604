"""Run the gateway until SIGINT or SIGTERM: ``python -m gateway`` (``werkplek gateway`` too).

Both entry points run :func:`main`: the same log set-up (``WERKPLEK_LOG_FORMAT``)
and the same health file, ``<state_dir>/gateway-health.json``, rewritten every
second with the broker link, history store and retention status that
``werkplek healthcheck gateway`` judges.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from pathlib import Path
from types import FrameType

from common.logs import setup_logging
from gateway.app import Gateway
from gateway.process import tune_gc
from gateway.settings import GatewaySettings

HEALTH_FILE = "gateway-health.json"


def health_path(settings: GatewaySettings) -> Path:
    """Where the running gateway writes its health report."""
    return Path(settings.state_dir) / HEALTH_FILE


def write_health(gateway: Gateway, path: Path) -> None:
    """Write the report atomically (a reader never sees half a file)."""
    report = {**gateway.status(), "counters": gateway.counters()}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report))
    os.replace(tmp, path)


def main(verbose: bool = False) -> None:
    """Read settings from the environment, run, stop cleanly on a signal."""
    settings = GatewaySettings()
    setup_logging(settings.log_format, verbose=verbose)
    done = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        logging.getLogger("gateway").info("signal %s: stopping", signum)
        done.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    gateway = Gateway(settings)
    tune_gc()
    health = health_path(settings)
    health.parent.mkdir(parents=True, exist_ok=True)
    gateway.start()
    try:
        while not done.is_set():
            write_health(gateway, health)
            done.wait(1.0)
    finally:
        gateway.stop()


if __name__ == "__main__":
    main()
