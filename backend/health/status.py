"""The backend's own health: broker link, history store and its retention, with reasons.

Served in ``/healthz`` and judged by ``werkplek healthcheck backend``. The
history store is what the facility reports read (InfluxDB with the backend's
read credential, or the gateway's SQLite file); it is checked at the first
``/healthz`` and again every ``history_check_s``, not on every request.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from backend.config import Settings
from backend.mqtt import MqttBridge
from history.influx_client import InfluxClient
from history.retention import RetentionStatus, check_retention
from history.settings import HistorySettings

log = logging.getLogger(__name__)


def mqtt_status(bridge: MqttBridge | None, connected: bool) -> dict[str, Any]:
    """The broker link as ``werkplek healthcheck`` reads it."""
    if bridge is None:
        return {"connected": connected, "down_since": None, "reason": "MQTT disabled"}
    return {
        "connected": bridge.connected,
        "down_since": None if bridge.connected else bridge.down_since,
        "reason": None if bridge.connected else bridge.down_reason,
    }


def probe_history(cfg: HistorySettings) -> tuple[dict[str, Any], RetentionStatus]:
    """Is the history store configured and reachable, and is retention in place?"""
    if not cfg.influx_url:
        path = cfg.history_path
        if path.is_file():
            history = {"configured": True, "reachable": True, "reason": f"SQLite file {path}"}
            return history, RetentionStatus(True, "pruned by the gateway (SQLite history)")
        reason = (
            f"not configured: set WERKPLEK_INFLUX_URL and the backend's InfluxDB credential "
            f"({path} does not exist either)"
        )
        return {"configured": False, "reachable": False, "reason": reason}, RetentionStatus(
            None, "no history store configured"
        )
    with InfluxClient.from_settings(cfg, timeout_s=3) as client:
        retention = check_retention(client, cfg.raw_retention_days, cfg.hourly_retention_days)
    reachable = not retention.reason.startswith("cannot check retention: InfluxDB unreachable")
    history = {
        "configured": True,
        "reachable": reachable,
        "reason": None if reachable else retention.reason,
    }
    return history, retention


class HistoryHealth:
    """Cached history probe; a missing retention is logged as an error on every probe."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._every_s = settings.history_check_s
        self._lock = threading.Lock()
        self._at = 0.0
        self._last: dict[str, Any] = {}

    def current(self) -> dict[str, Any]:
        """``{"history": ..., "retention": ...}``, probed again when older than the interval."""
        with self._lock:
            if self._last and time.monotonic() - self._at < self._every_s:
                return self._last
            history, retention = probe_history(self._settings)
            if retention.ok is False:
                log.error("history retention not in place: %s", retention.reason)
            elif not history["reachable"]:
                log.error("history store unavailable: %s", history["reason"])
            self._last = {"history": history, "retention": retention.as_dict()}
            self._at = time.monotonic()
            return self._last
