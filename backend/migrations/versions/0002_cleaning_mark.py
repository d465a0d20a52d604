"""Cleaning marks: when a space was last cleaned (facility cleaning on demand).

Revision ID: 0002_cleaning_mark
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.types import UtcDateTime

revision = "0002_cleaning_mark"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``cleaning_mark`` and its indexes."""
    op.create_table(
        "cleaning_mark",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("space_id", sa.String(length=63), nullable=False),
        sa.Column("site_id", sa.String(length=63), nullable=False),
        sa.Column("cleaned_at", UtcDateTime(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_cleaning_mark_site_id_site"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["space.id"], name=op.f("fk_cleaning_mark_space_id_space"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cleaning_mark")),
    )  # fmt: skip
    for column in ("cleaned_at", "site_id", "space_id"):
        op.create_index(op.f(f"ix_cleaning_mark_{column}"), "cleaning_mark", [column], unique=False)


def downgrade() -> None:
    """Drop ``cleaning_mark``."""
    for column in ("cleaned_at", "site_id", "space_id"):
        op.drop_index(op.f(f"ix_cleaning_mark_{column}"), table_name="cleaning_mark")
    op.drop_table("cleaning_mark")
