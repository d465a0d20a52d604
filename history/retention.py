"""Is InfluxDB keeping presence only as long as promised? Checked, never assumed.

``werkplek influx init`` (run once with an admin credential) creates the
retention policies; the gateway and the backend run with least-privilege users
that cannot. Both check at start and periodically that the policies are there
with the configured durations, and report a missing or wrong one loudly (health,
an error log, a metric) instead of silently keeping raw presence forever in
``autogen``. Needs only READ on the database (``SHOW CONTINUOUS QUERIES`` would
need admin, so the rollup queries themselves are checked by ``influx init``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from history.influx_client import InfluxClient

#: Retention policy of raw presence and telemetry (the database's default).
RAW_RP = "raw"
#: Retention policy of the hourly rollups written by the continuous queries.
HOURLY_RP = "hourly"
#: What an operator is told to do about a missing or wrong policy.
FIX = "run `werkplek influx init` with an admin credential (docs/operations.md)"


@dataclass(frozen=True, slots=True)
class RetentionStatus:
    """The outcome of one check: ``ok`` None means not checked (yet) or not checkable."""

    ok: bool | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """For health reports."""
        return {"ok": self.ok, "reason": self.reason}


NOT_CHECKED = RetentionStatus(None, "not checked yet")
#: SQLite history prunes itself (:meth:`SqliteHistory.maintain`): nothing to check.
SELF_MANAGED = RetentionStatus(True, "pruned by the gateway itself (SQLite history)")


def influx_duration(days: int) -> str:
    """A duration as InfluxDB 1.x shows it (``720h0m0s``; ``0s`` = forever)."""
    return f"{days * 24}h0m0s" if days else "0s"


def judge_policies(
    rows: list[dict[str, Any]], database: str, raw_days: int, hourly_days: int
) -> RetentionStatus:
    """Compare ``SHOW RETENTION POLICIES`` rows with the settings."""
    by_name = {str(r.get("name")): r for r in rows}
    raw = by_name.get(RAW_RP)
    if raw is None:
        default = next((name for name, r in by_name.items() if r.get("default")), "none")
        return RetentionStatus(
            False,
            f"retention policy {RAW_RP!r} missing on {database!r}: raw presence goes to "
            f"{default!r} and may be kept forever; {FIX}",
        )
    problems = []
    if not raw.get("default"):
        problems.append(f"{RAW_RP!r} is not the default policy (writes go elsewhere)")
    if raw.get("duration") != influx_duration(raw_days):
        problems.append(
            f"{RAW_RP!r} keeps {raw.get('duration')}, configured {influx_duration(raw_days)}"
        )
    hourly = by_name.get(HOURLY_RP)
    if hourly is None:
        problems.append(f"retention policy {HOURLY_RP!r} missing (no hourly rollup)")
    elif hourly.get("duration") != influx_duration(hourly_days):
        problems.append(
            f"{HOURLY_RP!r} keeps {hourly.get('duration')}, "
            f"configured {influx_duration(hourly_days)}"
        )
    if problems:
        return RetentionStatus(False, "; ".join(problems) + f"; {FIX}")
    return RetentionStatus(
        True, f"{RAW_RP} {influx_duration(raw_days)}, {HOURLY_RP} {influx_duration(hourly_days)}"
    )


def check_retention(client: InfluxClient, raw_days: int, hourly_days: int) -> RetentionStatus:
    """Ask InfluxDB for the database's retention policies and judge them.

    Never raises: an unreachable server or a refused statement is a status
    with ``ok`` None and the reason, since the history store may just be down.
    """
    database = client.database
    policies = client.retention_policies()
    if not policies.reachable:
        return RetentionStatus(None, f"cannot check retention: {policies.error}")
    if not policies.version.startswith("1."):
        return RetentionStatus(
            None,
            f"InfluxDB {policies.version or '?'}: retention is the bucket's; check it there "
            "(`werkplek influx init` says how)",
        )
    if policies.error is not None:
        if "not found" in policies.error:
            return RetentionStatus(False, f"database {database!r} does not exist; {FIX}")
        return RetentionStatus(None, f"cannot check retention: {policies.error}")
    return judge_policies(list(policies.rows), database, raw_days, hourly_days)
