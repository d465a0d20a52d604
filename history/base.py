"""The HistoryStore Protocol and the point it stores.

Schema (both stores): measurement ``presence``; tags site, floor, zone, space,
kind, device (unknown ones omitted); fields occupied (0/1 so mean() is an occupancy
ratio), seq, boot, source, clock_corrected; time = message ts in ms. The key is
(site, device, time), so a redelivered message rewrites the same point.

Device telemetry (RSSI, free heap, battery, uptime, firmware) goes to its own
measurement ``telemetry``: tags site, floor, space, device (one series per
device), one field per figure the device knows (a ``null`` figure is omitted,
never stored as 0), time = gateway receive time (telemetry carries no clock).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

MEASUREMENT = "presence"
TELEMETRY_MEASUREMENT = "telemetry"


@dataclass(frozen=True, slots=True)
class PresencePoint:
    """One stored presence reading."""

    site: str
    device: str
    time_ms: int
    occupied: bool
    seq: int
    boot: int | None
    source: str
    clock_corrected: bool
    space: str | None = None
    kind: str | None = None
    floor: str | None = None
    zone: str | None = None


@dataclass(frozen=True, slots=True)
class TelemetryPoint:
    """One stored telemetry report; ``None`` figures are unknown and not stored."""

    site: str
    device: str
    time_ms: int
    uptime_s: int
    fw: str
    rssi: int | None = None
    heap_free: int | None = None
    battery_v: float | None = None
    space: str | None = None
    floor: str | None = None


#: Anything the history writer carries to the store.
HistoryPoint = PresencePoint | TelemetryPoint


class HistoryStore(Protocol):
    """Where presence points go; implementations must be safe to call from two threads."""

    def ensure_schema(self) -> None:
        """Create the database or table if the store allows it.

        Raises:
            HistoryUnavailable: the store cannot be reached.
        """

    def write_points(self, points: Sequence[HistoryPoint]) -> None:
        """Write one batch (presence and telemetry); rewriting a point's key overwrites it.

        Raises:
            HistoryUnavailable: nothing was written; retry later.
            HistoryRejected: the store refused the points; retrying cannot help.
        """

    def query_presence(
        self,
        *,
        start_ms: int,
        end_ms: int,
        device: str | None = None,
        space: str | None = None,
    ) -> list[PresencePoint]:
        """Return points with ``start_ms <= time < end_ms`` for a device or space, oldest first.

        Raises:
            HistoryUnavailable: the store cannot be reached.
        """

    def close(self) -> None:
        """Release connections."""
