"""Log set-up of the gateway: the one shared by every entry point (:mod:`werkplek.logs`)."""

from __future__ import annotations

from werkplek.logs import JsonFormatter, setup_logging

__all__ = ["JsonFormatter", "setup_logging"]
