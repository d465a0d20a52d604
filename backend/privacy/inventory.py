"""The data inventory: every place Werkplek keeps data, which of it is personal, and for how long.

One table in code, so the privacy page (``docs/privacy.md``), the privacy officer's
report and the tests all read the same thing: a test fails when a database table or
column appears that no entry covers, and another when the page and this table differ.
Periods given as ``WERKPLEK_RETENTION_DAYS`` are enforced by ``backend.privacy.retention``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from backend.plans.privacy import inventory_items as plan_items

#: Where an item lives; ``table`` items are checked against the SQLAlchemy models.
STORES = ("table", "influxdb", "gateway", "broker", "memory", "log")


@dataclass(frozen=True, slots=True)
class Item:
    """One kind of record: where it lives, what in it is personal, why and how long."""

    name: str
    store: str
    what: str
    purpose: str
    basis: str
    who: str
    kept: str
    deleted_by: str
    #: Columns or fields that point at a person (an id, a name, an address).
    personal: tuple[str, ...] = ()
    #: Every other column or field (tables: together with ``personal`` all columns).
    other: tuple[str, ...] = field(default=())

    @property
    def is_personal(self) -> bool:
        """True when any field links the record to a person."""
        return bool(self.personal)

    def as_dict(self) -> dict[str, Any]:
        """The item as plain JSON types (for the report)."""
        body = asdict(self)
        body["personal"] = list(self.personal)
        body["other"] = list(self.other)
        return body


_TASK = "AVG art. 6(1)(e): managing the municipality's buildings"
_EMPLOY = "AVG art. 6(1)(b)/(e): the employment and the workplace it provides"
_DUTY = "AVG art. 6(1)(c)/(e): accountability for changes (art. 5(2), 32)"
_SECURITY = "AVG art. 6(1)(e)/(f): security of the service (art. 32)"
_NONE = "no personal data"
_RETENTION = "`WERKPLEK_RETENTION_DAYS` (30)"

ITEMS: tuple[Item, ...] = (
    Item(
        "app_user",
        "table",
        "User account",
        "logging in, booking, roles",
        _EMPLOY,
        "the person (`/me`, export); admin",
        "while the account exists; the person can erase it (`POST /api/v1/me/erase`), "
        "an admin for them (`POST /api/v1/users/{id}/erase`)",
        "erasure: row deleted, its traces removed or anonymised (`backend.privacy.erasure`)",
        personal=(
            "id",
            "username",
            "display_name",
            "email",
            "subject",
            "password_hash",
            "last_login_at",
            "created_at",
            "show_presence",
        ),
        other=("role", "active"),
    ),
    Item(
        "api_token",
        "table",
        "Login sessions, calendar feed tokens and API tokens (only a SHA-256 hash of the secret)",
        "access to the API and to the person's calendar feed",
        _SECURITY,
        "admin",
        "sessions are valid `WERKPLEK_SESSION_HOURS` (10 h) and deleted "
        f"{_RETENTION} after they expire; any revoked token (a replaced or stopped feed "
        f"token too) {_RETENTION} after revocation; a live feed token until the person "
        "replaces or stops it; screen and integration tokens until revoked",
        "retention job deletes the row; erasure deletes all of the person's tokens",
        personal=("user_id", "name"),
        other=("id", "role", "token_hash", "created_at", "expires_at", "revoked_at"),
    ),
    Item(
        "booking",
        "table",
        "Bookings (space, times, status, check-in time and method, "
        "why it ended, title, guest name)",
        "booking, check-in, release of no-shows, calendars",
        _EMPLOY,
        "the person who booked; facility and admin for operations; screens only *that* a "
        "space is booked",
        f"deleted {_RETENTION} after the booking ended",
        "retention job deletes the row; erasure deletes it, or anonymises one in progress "
        "until it ends",
        personal=("user_id", "guest_name", "title"),
        other=(
            "id",
            "space_id",
            "site_id",
            "space_kind",
            "start_at",
            "end_at",
            "local_day",
            "day_key",
            "status",
            "checked_in_at",
            "check_in_method",
            "sensor_fallback",
            "ended_at",
            "end_reason",
            "series_id",
            "created_at",
        ),
    ),
    Item(
        "audit_log",
        "table",
        "Audit log: time, actor (`user:<id>`, `token:<name>` of a "
        "screen or integration, `system:*`), action, object, changed fields (never names)",
        "accountability: who changed what, when",
        _DUTY,
        "facility and admin (`GET /api/v1/audit`); the person in their export",
        f"the record is kept; {_RETENTION} after the event the actor and a person as "
        "object become `anonymised`, and a person's own logins, feed and preference "
        "changes are deleted",
        "retention job (update and delete); erasure does the same at once",
        personal=("actor", "actor_user_id", "object_id"),
        other=("id", "at", "action", "object_type", "detail"),
    ),
    Item(
        "login_throttle",
        "table",
        "Counted login attempts per source address and per account from a source, under a "
        "SHA-256 key (no username or address in the clear, but a guessable pseudonym)",
        "slowing password guessing without locking the owner out",
        _SECURITY,
        "nobody (the login check only)",
        "a day after the last attempt (`backend.auth.throttle.RETENTION`)",
        "the login check and the retention job delete rows quiet for a day; not in the "
        "export: without the person's address the key cannot be found",
        personal=("key",),
        other=("failures", "next_allowed_at", "updated_at"),
    ),
    Item(
        "cleaning_mark",
        "table",
        "Cleaning marks: space, time, role (never which person)",
        "cleaning on demand",
        _TASK,
        "facility and admin",
        "while useful for the cleaning list (not personal)",
        "not applicable",
        other=("id", "space_id", "site_id", "cleaned_at", "role"),
    ),
    Item(
        "site",
        "table",
        "Sites: name, kind, time zone, address, position",
        "showing and booking places",
        _TASK,
        "everyone (read), admin (write)",
        "while in use",
        "admin",
        other=(
            "id",
            "name",
            "kind",
            "timezone",
            "address",
            "city",
            "latitude",
            "longitude",
            "created_at",
        ),
    ),
    Item(
        "floor",
        "table",
        "Floors and their plan size",
        "showing places",
        _TASK,
        "everyone (read), admin (write)",
        "while in use",
        "admin",
        other=("id", "site_id", "name", "level", "plan_width", "plan_height", "created_at"),
    ),
    Item(
        "space",
        "table",
        "Spaces (desks, rooms) and their features",
        "showing and booking places",
        _TASK,
        "everyone (read), facility and admin (write)",
        "while in use",
        "admin",
        other=(
            "id",
            "site_id",
            "floor_id",
            "kind",
            "name",
            "zone",
            "quiet",
            "capacity",
            "standing",
            "screen",
            "accessible",
            "x",
            "y",
            "w",
            "h",
            "created_at",
            "updated_at",
        ),
    ),
    Item(
        "floor_drawing",
        "table",
        "Floor drawings: walls, rooms, corridors, landmarks",
        "showing places",
        _TASK,
        "everyone (read), facility and admin (write)",
        "while in use",
        "facility, admin",
        other=("floor_id", "features", "feature_count", "updated_at"),
    ),
    Item(
        "device",
        "table",
        "Sensor assignment to spaces",
        "mapping sensors to spaces",
        _TASK,
        "admin, IT",
        "while in use",
        "admin",
        other=("id", "site_id", "space_id", "source", "heartbeat_s", "created_at", "updated_at"),
    ),
    Item(
        "site_policy",
        "table",
        "Booking policy per site",
        "deciding what may be booked",
        _TASK,
        "everyone (read), facility and admin (write)",
        "while in use",
        "admin",
        other=(
            "site_id",
            "advance_days",
            "max_minutes",
            "one_desk_per_day",
            "desk_grace_s",
            "room_grace_s",
            "room_empty_release_s",
        ),
    ),
    Item(
        "opening_hours",
        "table",
        "Opening hours per site and weekday",
        "booking rules",
        _TASK,
        "everyone (read), facility and admin (write)",
        "while in use",
        "admin",
        other=("site_id", "weekday", "opens", "closes"),
    ),
    Item(
        "holiday",
        "table",
        "Holidays per site",
        "booking rules",
        _TASK,
        "everyone (read), facility and admin (write)",
        "while in use",
        "admin",
        other=("site_id", "day", "name"),
    ),
    Item(
        "presence",
        "influxdb",
        "Raw presence per space (in use yes/no, source, sequence number, boot id, "
        "clock corrected; tags site, floor, zone, space, kind, device)",
        "facility reports, cleaning, energy; Grafana",
        _TASK,
        "facility management, IT",
        "`WERKPLEK_RAW_RETENTION_DAYS` (30) in retention policy `raw`",
        "InfluxDB retention policy (SQLite store: the gateway's pruning)",
        other=(
            "site",
            "floor",
            "zone",
            "space",
            "kind",
            "device",
            "occupied",
            "source",
            "seq",
            "boot",
            "clock_corrected",
        ),
    ),
    Item(
        "presence_hourly",
        "influxdb",
        "Hourly occupancy per space",
        "facility reports over years",
        _TASK,
        "facility management, IT",
        "`WERKPLEK_HOURLY_RETENTION_DAYS` (1825, five years) in retention policy `hourly`",
        "InfluxDB retention policy",
        other=("site", "floor", "zone", "space", "kind", "occupancy", "samples"),
    ),
    Item(
        "telemetry",
        "influxdb",
        "Sensor health history (signal strength, free memory, "
        "battery, uptime, firmware) per device",
        "maintenance",
        _TASK,
        "IT",
        "raw `WERKPLEK_RAW_RETENTION_DAYS` (30); hourly rollup `telemetry_hourly` "
        "`WERKPLEK_HOURLY_RETENTION_DAYS` (1825)",
        "InfluxDB retention policies",
        other=(
            "site",
            "floor",
            "space",
            "device",
            "rssi",
            "heap_free",
            "battery_v",
            "uptime_s",
            "fw",
        ),
    ),
    Item(
        "facility_daily, facility_peak",
        "influxdb",
        "Daily occupancy and peaks per site, floor, zone and kind (facility rollup)",
        "facility reports",
        _TASK,
        "facility management",
        "kept (retention policy `facility`); never per person",
        "not applicable",
        other=("site", "floor", "zone", "kind", "day", "occupancy", "peak"),
    ),
    Item(
        "dead letters",
        "gateway",
        "Rejected MQTT messages: time, topic, reason, raw bytes",
        "finding broken sensors",
        _TASK,
        "IT",
        "newest 10,000 records",
        "the gateway prunes the oldest",
        other=("received_ms", "topic", "reason", "detail", "payload"),
    ),
    Item(
        "live state and health",
        "memory",
        "Live state per space, availability, latest "
        "sensor health (retained MQTT topics, backend and gateway memory)",
        "signage, app, maintenance",
        _TASK,
        "everyone with a screen or API token; IT for health",
        "replaced by the next value; availability never names who booked",
        "overwritten",
        other=("space", "state", "since", "device", "rssi", "heap", "battery", "fw"),
    ),
    Item(
        "MQTT broker log",
        "broker",
        "Mosquitto log: connects and disconnects with client "
        "id (a device id), client IP address, errors",
        "operating the broker",
        _SECURITY,
        "IT",
        "operator's log rotation: at most 30 days (docs/operations.md)",
        "log rotation (journald or the container runtime)",
        personal=("client IP address",),
        other=("time", "client id", "message"),
    ),
    Item(
        "HTTP access logs",
        "log",
        "Access logs: none by default (Caddy in deploy/Caddyfile has no `log` "
        "directive; the backend's uvicorn access log is silenced); one an operator enables "
        "holds time, client IP address, method, URL, status, user agent",
        "security, fault finding",
        _SECURITY,
        "IT",
        "operator's log rotation: at most 30 days (docs/operations.md); only short-lived "
        "stream tokens and feed tokens ever travel in a URL",
        "log rotation",
        personal=("client IP address", "user agent", "URL"),
        other=("time", "method", "status"),
    ),
    Item(
        "application logs",
        "log",
        "Backend and gateway logs on stdout (never names, passwords or tokens; a failed "
        "login is logged with the user id and the client address)",
        "operating the services; noticing password guessing",
        _SECURITY,
        "IT",
        "operator's log rotation: at most 30 days (docs/operations.md)",
        "log rotation",
        personal=("user id of a failed login", "client address of a failed login"),
        other=("time", "level", "logger", "message"),
    ),
    *plan_items(Item, _EMPLOY, _TASK),  # week plans and teams (backend/plans/privacy.py)
)


def by_name() -> dict[str, Item]:
    """Every item keyed by its name."""
    return {item.name: item for item in ITEMS}


def tables() -> dict[str, Item]:
    """The items that are database tables, keyed by table name."""
    return {item.name: item for item in ITEMS if item.store == "table"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown() -> str:
    """The inventory as the Markdown table of ``docs/privacy.md`` (generated, not edited)."""
    lines = [
        "| data item | where | personal fields | purpose | legal basis | who sees it "
        "| kept | deleted by |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for item in ITEMS:
        name = f"**(P)** `{item.name}`" if item.is_personal else f"`{item.name}`"
        personal = ", ".join(f"`{p}`" for p in item.personal) or "none"
        cells = (name, item.store, personal, item.what + "; " + item.purpose, item.basis,
                 item.who, item.kept, item.deleted_by)  # fmt: skip
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"
