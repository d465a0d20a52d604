"""The gateway's mapping from a validated message to the history point it stores."""

from __future__ import annotations

from gateway.messages import Assignment, PresenceMessage, TelemetryMessage
from history.base import PresencePoint, TelemetryPoint


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


def telemetry_point(msg: TelemetryMessage, assignment: Assignment | None) -> TelemetryPoint:
    """Build the history point of a telemetry report, tagged like presence."""
    return TelemetryPoint(
        site=msg.site,
        device=msg.device_id,
        time_ms=msg.received_ms,
        uptime_s=msg.uptime_s,
        fw=msg.fw,
        rssi=msg.rssi,
        heap_free=msg.heap_free,
        battery_v=msg.battery_v,
        space=assignment.space_id if assignment else None,
        floor=assignment.floor if assignment else None,
    )
