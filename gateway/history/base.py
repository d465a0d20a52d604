"""The HistoryStore Protocol and the point it stores.

Schema (both stores): measurement ``presence``; tags site, floor, zone, space,
kind, device (unknown ones omitted); fields occupied (0/1 so mean() is an occupancy
ratio), seq, boot, source, clock_corrected; time = message ts in ms. The key is
(site, device, time), so a redelivered message rewrites the same point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from gateway.messages import Assignment, PresenceMessage

MEASUREMENT = "presence"


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


def point_from_message(msg: PresenceMessage, assignment: Assignment | None) -> PresencePoint:
    """Build the history point of a message, tagged with the device's current assignment."""
    return PresencePoint(
        site=msg.site,
        device=msg.device_id,
        time_ms=msg.ts,
        occupied=msg.occupied,
        seq=msg.seq,
        boot=msg.boot,
        source=msg.source,
        clock_corrected=msg.clock_corrected,
        space=assignment.space_id if assignment else None,
        kind=assignment.kind if assignment else None,
        floor=assignment.floor if assignment else None,
        zone=assignment.zone if assignment else None,
    )


class HistoryStore(Protocol):
    """Where presence points go; implementations must be safe to call from two threads."""

    def ensure_schema(self) -> None:
        """Create the database or table if the store allows it.

        Raises:
            HistoryUnavailable: the store cannot be reached.
        """

    def write_points(self, points: Sequence[PresencePoint]) -> None:
        """Write one batch; rewriting a point with the same key overwrites it.

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
