"""The privacy officer's and works council's report, read from the live configuration.

Nothing here is a copy of a setting: retention periods come from the running
backend's settings and, when InfluxDB is configured, from the retention policies
InfluxDB itself reports, so the report shows what is in force, not what was meant.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.facility.settings import FacilitySettings
from backend.people.models import AuditLog, User
from backend.privacy import inventory
from backend.privacy.retention import personal_actor
from history.influx_client import InfluxClient
from history.settings import HistorySettings


def influx_policies(cfg: HistorySettings) -> dict[str, Any]:
    """InfluxDB's retention policies as it reports them, or why they could not be read."""
    if not cfg.influx_url:
        return {"configured": False, "note": "no InfluxDB: the gateway's SQLite history prunes "
                "raw points after WERKPLEK_RAW_RETENTION_DAYS"}  # fmt: skip
    with InfluxClient.from_settings(cfg) as client:
        read = client.retention_policies()
    if read.error is not None:
        return {"configured": True, "error": read.error}
    policies = [
        {
            "name": row.get("name"),
            "duration": row.get("duration"),
            "forever": row.get("duration") in ("0s", "0"),
            "default": bool(row.get("default")),
        }
        for row in read.rows
    ]
    return {"configured": True, "database": cfg.influx_database, "policies": policies}


def _count(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def build(
    session: Session, settings: Settings, cfg: FacilitySettings, now: datetime
) -> dict[str, Any]:
    """The report: inventory, retention in force, suppression, opt-outs, what does not exist."""
    cutoff = now - timedelta(days=settings.retention_days)
    last_seen = func.coalesce(User.last_login_at, User.created_at)
    linked = personal_actor() | AuditLog.actor_user_id.is_not(None)
    overdue = _count(session, AuditLog, AuditLog.at < cutoff, linked)
    return {
        "generated_at": now.isoformat(),
        "inventory": [item.as_dict() for item in inventory.ITEMS],
        "retention": {
            "retention_days": settings.retention_days,
            "session_hours": settings.session_hours,
            "job": "hourly in every backend replica (backend.privacy.retention)",
            "audit_records_past_retention_still_linked": overdue,
            "influxdb": influx_policies(cfg),
        },
        "facility_reports": {
            "min_group": cfg.facility_min_group,
            "note": "groups of fewer spaces or bookings are suppressed",
        },
        "accounts": {
            "total": _count(session, User),
            "hide_me_set": _count(session, User, User.show_presence.is_(False)),
            # Accounts are kept while they exist: these are the ones to erase or ask about.
            "deactivated": _count(session, User, User.active.is_(False)),
            "active_without_login_for_a_year": _count(
                session, User, User.active.is_(True), last_seen < now - timedelta(days=365)
            ),
        },
        "per_person_presence_report": False,
        "statement": "No report or endpoint gives the presence or check-ins of one person over "
        "time; a person sees only their own bookings, facility reports aggregate per group.",
    }
