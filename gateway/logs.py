"""Log set-up of the gateway: the one shared by every entry point (:mod:`common.logs`)."""

from __future__ import annotations

from common.logs import JsonFormatter, setup_logging

__all__ = ["JsonFormatter", "setup_logging"]
