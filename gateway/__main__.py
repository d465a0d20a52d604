"""Run the gateway until SIGINT or SIGTERM: ``python -m gateway``."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from gateway.app import Gateway
from gateway.logs import setup_logging
from gateway.process import tune_gc
from gateway.settings import GatewaySettings


def main() -> None:
    """Read settings from the environment, run, stop cleanly on a signal."""
    settings = GatewaySettings()
    setup_logging(settings.log_format)
    done = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        logging.getLogger("gateway").info("signal %s: stopping", signum)
        done.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    gateway = Gateway(settings)
    tune_gc()
    gateway.start()
    done.wait()
    gateway.stop()


if __name__ == "__main__":
    main()
