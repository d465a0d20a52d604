"""Login throttle: counted login attempts per source and per account from a source.

Revision ID: 0003_login_throttle
Revises: 0002_cleaning_mark
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.types import UtcDateTime

revision = "0003_login_throttle"
down_revision = "0002_cleaning_mark"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``login_throttle`` and its index on ``updated_at`` (retention)."""
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_allowed_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_index(
        op.f("ix_login_throttle_updated_at"), "login_throttle", ["updated_at"], unique=False
    )


def downgrade() -> None:
    """Drop ``login_throttle``."""
    op.drop_index(op.f("ix_login_throttle_updated_at"), table_name="login_throttle")
    op.drop_table("login_throttle")
