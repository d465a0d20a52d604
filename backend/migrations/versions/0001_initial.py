"""Initial schema: registry, tokens, people, audit, site rules and bookings.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.types import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ACTIVE = "status IN ('booked', 'checked_in')"
_OVERLAP = (
    "SELECT RAISE(ABORT, 'ex_booking_no_overlap') WHERE EXISTS (SELECT 1 FROM booking b "
    "WHERE b.space_id = NEW.space_id AND b.status IN ('booked', 'checked_in') "
    "AND b.start_at < NEW.end_at AND NEW.start_at < b.end_at{extra});"
)


def _no_overlap() -> None:
    # No double booking, ever: the database's own rule (see backend/bookings/models.py).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE booking ADD CONSTRAINT ex_booking_no_overlap EXCLUDE USING gist "
            "(space_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&) "
            f"WHERE ({_ACTIVE})"
        )
    elif op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER tr_booking_no_overlap_insert BEFORE INSERT ON booking "
            "WHEN NEW.status IN ('booked', 'checked_in') BEGIN "
            + _OVERLAP.format(extra="")
            + " END"
        )
        op.execute(
            "CREATE TRIGGER tr_booking_no_overlap_update "
            "BEFORE UPDATE OF space_id, start_at, end_at, status ON booking "
            "WHEN NEW.status IN ('booked', 'checked_in') BEGIN "
            + _OVERLAP.format(extra=" AND b.id <> NEW.id")
            + " END"
        )


def upgrade() -> None:
    """Create every table of the first release."""
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=400), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("show_presence", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_login_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("subject", name=op.f("uq_app_user_subject")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "site",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_api_token_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_index(op.f("ix_api_token_user_id"), "api_token", ["user_id"], unique=False)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["app_user.id"],
            name=op.f("fk_audit_log_actor_user_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(
        op.f("ix_audit_log_actor_user_id"), "audit_log", ["actor_user_id"], unique=False
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index("ix_audit_log_object", "audit_log", ["object_type", "object_id"], unique=False)
    op.create_table(
        "floor",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("site_id", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("plan_width", sa.Float(), nullable=False),
        sa.Column("plan_height", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_floor_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_floor")),
    )
    op.create_index(op.f("ix_floor_site_id"), "floor", ["site_id"], unique=False)
    op.create_table(
        "holiday",
        sa.Column("site_id", sa.String(length=63), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_holiday_site_id_site"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("site_id", "day", name=op.f("pk_holiday")),
    )
    op.create_table(
        "opening_hours",
        sa.Column("site_id", sa.String(length=63), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_opening_hours_site_id_site"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("site_id", "weekday", name=op.f("pk_opening_hours")),
    )
    op.create_table(
        "site_policy",
        sa.Column("site_id", sa.String(length=63), nullable=False),
        sa.Column("advance_days", sa.Integer(), nullable=False),
        sa.Column("max_minutes", sa.Integer(), nullable=False),
        sa.Column("one_desk_per_day", sa.Boolean(), nullable=False),
        sa.Column("desk_grace_s", sa.Integer(), nullable=False),
        sa.Column("room_grace_s", sa.Integer(), nullable=False),
        sa.Column("room_empty_release_s", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_site_policy_site_id_site"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_site_policy")),
    )
    op.create_table(
        "space",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("site_id", sa.String(length=63), nullable=False),
        sa.Column("floor_id", sa.String(length=63), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("zone", sa.String(length=63), nullable=True),
        sa.Column("quiet", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("standing", sa.Boolean(), nullable=False),
        sa.Column("screen", sa.Boolean(), nullable=False),
        sa.Column("accessible", sa.Boolean(), nullable=False),
        sa.Column("x", sa.Float(), nullable=False),
        sa.Column("y", sa.Float(), nullable=False),
        sa.Column("w", sa.Float(), nullable=False),
        sa.Column("h", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["floor_id"], ["floor.id"], name=op.f("fk_space_floor_id_floor")),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_space_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_space")),
    )
    op.create_index(op.f("ix_space_floor_id"), "space", ["floor_id"], unique=False)
    op.create_index(op.f("ix_space_site_id"), "space", ["site_id"], unique=False)
    op.create_table(
        "booking",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("space_id", sa.String(length=63), nullable=False),
        sa.Column("site_id", sa.String(length=63), nullable=False),
        sa.Column("space_kind", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("guest_name", sa.String(length=200), nullable=True),
        sa.Column("start_at", UtcDateTime(), nullable=False),
        sa.Column("end_at", UtcDateTime(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("day_key", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("checked_in_at", UtcDateTime(), nullable=True),
        sa.Column("check_in_method", sa.String(length=20), nullable=True),
        sa.Column("sensor_fallback", sa.Boolean(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=30), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("series_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('booked', 'checked_in', 'released', 'cancelled')",
            name=op.f("ck_booking_status"),
        ),
        sa.CheckConstraint("end_at > start_at", name=op.f("ck_booking_time_order")),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_booking_site_id_site"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["space.id"], name=op.f("fk_booking_space_id_space"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_booking_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking")),
    )
    op.create_index(op.f("ix_booking_end_at"), "booking", ["end_at"], unique=False)
    op.create_index(op.f("ix_booking_series_id"), "booking", ["series_id"], unique=False)
    op.create_index(op.f("ix_booking_site_id"), "booking", ["site_id"], unique=False)
    op.create_index("ix_booking_space_start", "booking", ["space_id", "start_at"], unique=False)
    op.create_index(op.f("ix_booking_start_at"), "booking", ["start_at"], unique=False)
    op.create_index(op.f("ix_booking_user_id"), "booking", ["user_id"], unique=False)
    op.create_index(
        "uq_booking_one_desk_per_day",
        "booking",
        ["user_id", "day_key"],
        unique=True,
        sqlite_where=sa.text(_ACTIVE),
        postgresql_where=sa.text(_ACTIVE),
    )
    _no_overlap()
    op.create_table(
        "device",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("site_id", sa.String(length=63), nullable=False),
        sa.Column("space_id", sa.String(length=63), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("heartbeat_s", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_device_site_id_site")),
        sa.ForeignKeyConstraint(
            ["space_id"], ["space.id"], name=op.f("fk_device_space_id_space"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device")),
    )
    op.create_index(op.f("ix_device_site_id"), "device", ["site_id"], unique=False)
    op.create_index(op.f("ix_device_space_id"), "device", ["space_id"], unique=False)


def downgrade() -> None:
    """Drop every table (and with them the triggers and constraints)."""
    op.drop_table("device")
    op.drop_table("booking")
    op.drop_table("space")
    op.drop_table("site_policy")
    op.drop_table("opening_hours")
    op.drop_table("holiday")
    op.drop_table("floor")
    op.drop_table("audit_log")
    op.drop_table("api_token")
    op.drop_table("site")
    op.drop_table("app_user")
