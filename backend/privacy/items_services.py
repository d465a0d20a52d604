"""Inventory entries outside the database: history, gateway, memory, broker and logs."""

from __future__ import annotations

from backend.privacy.item import SECURITY, TASK, Item

SERVICES: tuple[Item, ...] = (
    Item(
        "presence",
        "influxdb",
        "Raw presence per space (in use yes/no, source, sequence number, boot id, "
        "clock corrected; tags site, floor, zone, space, kind, device)",
        "facility reports, cleaning, energy; Grafana",
        TASK,
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
        TASK,
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
        TASK,
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
        TASK,
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
        TASK,
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
        TASK,
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
        SECURITY,
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
        SECURITY,
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
        SECURITY,
        "IT",
        "operator's log rotation: at most 30 days (docs/operations.md)",
        "log rotation",
        personal=("user id of a failed login", "client address of a failed login"),
        other=("time", "level", "logger", "message"),
    ),
)
