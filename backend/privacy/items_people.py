"""Inventory entries of the tables that hold people: accounts, tokens, bookings, audit, cleaning."""

from __future__ import annotations

from backend.privacy.item import DUTY, EMPLOY, RETENTION, SECURITY, TASK, Item

PEOPLE: tuple[Item, ...] = (
    Item(
        "app_user",
        "table",
        "User account",
        "logging in, booking, roles",
        EMPLOY,
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
        SECURITY,
        "admin",
        "sessions are valid `WERKPLEK_SESSION_HOURS` (10 h) and deleted "
        f"{RETENTION} after they expire; any revoked token (a replaced or stopped feed "
        f"token too) {RETENTION} after revocation; a live feed token until the person "
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
        EMPLOY,
        "the person who booked; facility and admin for operations; screens only *that* a "
        "space is booked",
        f"deleted {RETENTION} after the booking ended",
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
        DUTY,
        "facility and admin (`GET /api/v1/audit`); the person in their export",
        f"the record is kept; {RETENTION} after the event the actor and a person as "
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
        SECURITY,
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
        TASK,
        "facility and admin",
        "while useful for the cleaning list (not personal)",
        "not applicable",
        other=("id", "space_id", "site_id", "cleaned_at", "role"),
    ),
)
