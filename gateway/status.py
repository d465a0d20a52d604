"""What the gateway reports about itself: broker link, history store, retention.

``werkplek gateway`` and ``python -m gateway`` write this to a health file
every second; ``werkplek healthcheck gateway`` judges it (:func:`judge`). The
retention of the history store is checked again every ``retention_check_s`` by
:class:`RetentionWatch`, so a policy dropped while running is noticed too.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from gateway.metrics import GatewayMetrics
from history.retention import SELF_MANAGED, RetentionStatus

log = logging.getLogger(__name__)


def retention_of(history: object) -> RetentionStatus:
    """The last retention check of a store (SQLite prunes itself)."""
    status = getattr(history, "retention", None)
    return status if isinstance(status, RetentionStatus) else SELF_MANAGED


class RetentionWatch:
    """Re-checks the store's retention periodically and keeps the metric current."""

    def __init__(self, history: object, metrics: GatewayMetrics, interval_s: float) -> None:
        self._history = history
        self._metrics = metrics
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retention-watch", daemon=True)

    def start(self) -> None:
        """Start watching (the first check is the writer's, right after its schema step)."""
        self._thread.start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        check = getattr(self._history, "check_retention", None)
        next_check = time.monotonic() + self._interval_s
        while not self._stop.wait(1.0):
            if check is not None and time.monotonic() >= next_check:
                next_check = time.monotonic() + self._interval_s
                try:
                    check()
                except Exception:  # the watch must never stop the gateway
                    log.exception("retention check failed")
            self._metrics.retention(retention_of(self._history).ok)


def judge(report: dict[str, Any], now: float, max_stale_s: float, max_down_s: float) -> list[str]:
    """Reasons a gateway health report is unhealthy (empty: healthy).

    Unhealthy: the report is older than ``max_stale_s`` (the process hangs or
    is gone), or the broker link has been down longer than ``max_down_s``.
    Missing retention is not a reason to restart (a restart cannot fix it):
    it is reported by :func:`warnings`.
    """
    reasons = []
    age = now - float(report.get("at", 0))
    if age > max_stale_s:
        reasons.append(f"health report is {age:.0f} s old (process hanging or stopped)")
    mqtt = report.get("mqtt") or {}
    down_since = mqtt.get("down_since")
    if not mqtt.get("connected") and down_since is not None and now - down_since > max_down_s:
        reasons.append(
            f"not connected to the MQTT broker for {now - down_since:.0f} s: {mqtt.get('reason')}"
        )
    return reasons


def warnings(report: dict[str, Any]) -> list[str]:
    """Problems that do not make the service unhealthy but need an operator."""
    out = []
    retention = report.get("retention") or {}
    if retention.get("ok") is not True:
        out.append(f"history retention: {retention.get('reason')}")
    history = report.get("history") or {}
    if not history.get("reachable", True):
        spooled = history.get("spooled")
        suffix = "" if spooled is None else f"; {spooled} points spooled"
        out.append(f"history store unreachable ({history.get('reason')}){suffix}")
    return out
