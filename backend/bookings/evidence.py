"""Scheduler evidence read straight from the gateway's space states, with their freshness.

The check-in scheduler decides on raw sensor state, not on what a screen shows:
the display availability folds in bookings ("booked") and display rules, and a
change of those must never change what counts as evidence that nobody came.

A state is evidence only while it can be trusted: the broker link is up, no known
gateway is offline, the space's site is linked, and (while no gateway status is
known, so nobody keeps the states current) it is younger than the age limit.
Anything else is ``unknown``, and the scheduler never releases on ``unknown``.
"""

from __future__ import annotations

from collections.abc import Callable

from backend import clock
from backend.availability.live import LiveState
from backend.bookings.scheduler import SensorView, utc_from_ms

#: Sensor states that count as evidence; the gateway's own ``unknown`` does not.
_TRUSTED = ("occupied", "vacant")


def sensor_views(
    live: LiveState,
    now_ms: int,
    stale_after_ms: int,
    site_down: Callable[[str], bool] = lambda _site: False,
) -> dict[str, SensorView]:
    """Return each space's sensor evidence: ``occupied``, ``vacant`` or ``unknown``."""
    trusted_link = live.connected and live.gateway != "offline"
    age_counts = live.gateway == "unknown"
    views = {}
    for space_id, state in live.states.items():
        fresh = not age_counts or now_ms - state.updated <= stale_after_ms
        if trusted_link and fresh and state.state in _TRUSTED and not site_down(state.site):
            since = utc_from_ms(state.since)  # wall time; the rules run on backend.clock
            views[space_id] = SensorView(state.state, since and clock.from_wall(since))
        else:
            views[space_id] = SensorView("unknown", None)
    return views
