"""A per-minute budget for log lines, so a misbehaving fleet cannot flood the logs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class LogBudget:
    """Allows ``per_min`` log lines per minute; says how many it held back."""

    def __init__(
        self,
        per_min: int,
        logger: logging.Logger,
        what: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._per_min = per_min
        self._log = logger
        self._what = what
        self._window_start = clock()
        self._used = 0
        self._held_back = 0

    def allow(self) -> bool:
        """True if one more line may be logged in the current minute."""
        now = self._clock()
        if now - self._window_start >= 60:
            if self._held_back:
                self._log.warning(
                    "%d %s not logged in the last minute (counted and kept)",
                    self._held_back,
                    self._what,
                )
            self._window_start = now
            self._used = 0
            self._held_back = 0
        if self._used < self._per_min:
            self._used += 1
            return True
        self._held_back += 1
        return False
