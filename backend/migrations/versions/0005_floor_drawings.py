"""Floor drawings (walls, rooms, corridors, landmarks) and the edit time of a space.

Revision ID: 0005_floor_drawings
Revises: 0004_plans_teams
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_floor_drawings"
down_revision = "0004_plans_teams"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``floor_drawing``; add ``space.updated_at`` (null until a space is edited)."""
    op.create_table(
        "floor_drawing",
        sa.Column("floor_id", sa.String(length=63), nullable=False),
        sa.Column("features", sa.Text(), nullable=False),
        sa.Column("feature_count", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["floor_id"], ["floor.id"], name=op.f("fk_floor_drawing_floor_id_floor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("floor_id", name=op.f("pk_floor_drawing")),
    )  # fmt: skip
    # A plain ADD/DROP COLUMN, never a batch copy: on SQLite a copy drops the old table,
    # and with foreign keys on that would cascade into every booking of every space.
    op.add_column("space", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop ``floor_drawing`` and ``space.updated_at``."""
    op.drop_column("space", "updated_at")
    op.drop_table("floor_drawing")
