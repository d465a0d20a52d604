"""One read of the booking marks serves every booking change that came before it.

After a change the availability view must show it before the client gets its
answer (the app re-reads availability at once). Reading every active booking
per request made a burst of N bookings do N full reads, each with a second
pooled connection: at 50 concurrent clients most of a booking's time went there.

Here a request registers its change and waits until a read that *started after*
the registration has finished. One request does the read; the others that
registered before it started are served by it; those that came during it wait
for the next one. A burst costs about (burst length / read time) reads, not N.
The wait is bounded: a slow or failing read never fails or stalls a booking that
is already committed; the scheduler's next run refreshes the marks anyway.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

#: Longest a request waits for fresh marks before it answers anyway.
WAIT_S = 2.0
#: Marks look this far ahead: a booking that starts later changes no mark yet (the
#: scheduler's full read every few seconds picks it up once the window reaches it).
HORIZON_H = 24.0


class MarksRefresher:
    """Coalesce mark reads of concurrent requests (thread-safe)."""

    def __init__(self, refresh: Callable[[], None], wait_s: float = WAIT_S) -> None:
        self._refresh = refresh
        self._wait_s = wait_s
        self._cond = threading.Condition()
        self._asked = 0  # changes registered so far
        self._done = 0  # changes covered by a finished read
        self._reading = False
        #: Reads done (the bench and the tests look at it).
        self.reads = 0

    def changed(self) -> None:
        """Register a committed change; return once a read that covers it has finished."""
        deadline = time.monotonic() + self._wait_s
        with self._cond:
            self._asked += 1
            mine = self._asked
            while self._done < mine:
                if not self._reading:
                    self._read_covering(self._asked)
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(left)

    def _read_covering(self, upto: int) -> None:
        # Called with the condition held; the read itself runs without it.
        self._reading = True
        self._cond.release()
        try:
            self._refresh()
        except Exception:  # noqa: BLE001 - the change is committed; the next read catches up
            log.exception("booking marks: refresh failed; the scheduler's next run retries")
        finally:
            self._cond.acquire()
            self._reading = False
            self._done = max(self._done, upto)
            self.reads += 1
            self._cond.notify_all()
