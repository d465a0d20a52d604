"""Week plans and teams: work_plan, plan_pattern, team, team_member, plan_sharing.

Revision ID: 0004_plans_teams
Revises: 0003_login_throttle
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from backend.types import UtcDateTime

revision = "0004_plans_teams"
down_revision = "0003_login_throttle"
branch_labels = None
depends_on = None

_PLACE = "(place = 'home' AND site_id IS NULL) OR (place = 'site' AND site_id IS NOT NULL)"


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"],
        ["app_user.id"],
        name=op.f(f"fk_{table}_user_id_app_user"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    """Create the plan and team tables (all empty: nothing is planned or shared yet)."""
    op.create_table(
        "work_plan",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=10), nullable=False),
        sa.Column("site_id", sa.String(length=63), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(_PLACE, name=op.f("ck_work_plan_place")),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_work_plan_site_id_site"), ondelete="CASCADE"
        ),
        _user_fk("work_plan"),
        sa.PrimaryKeyConstraint("user_id", "day", name=op.f("pk_work_plan")),
    )
    op.create_index(op.f("ix_work_plan_day"), "work_plan", ["day"], unique=False)
    op.create_index(op.f("ix_work_plan_site_id"), "work_plan", ["site_id"], unique=False)
    op.create_table(
        "plan_pattern",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(length=10), nullable=False),
        sa.Column("site_id", sa.String(length=63), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(_PLACE, name=op.f("ck_plan_pattern_place")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_plan_pattern_weekday")),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
            name=op.f("fk_plan_pattern_site_id_site"),
            ondelete="CASCADE",
        ),
        _user_fk("plan_pattern"),
        sa.PrimaryKeyConstraint("user_id", "weekday", name=op.f("pk_plan_pattern")),
    )
    op.create_index(op.f("ix_plan_pattern_site_id"), "plan_pattern", ["site_id"], unique=False)
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("oidc_group", sa.String(length=200), nullable=True),
        sa.Column("home_site_id", sa.String(length=63), nullable=True),
        sa.Column("home_zone", sa.String(length=63), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["home_site_id"],
            ["site.id"],
            name=op.f("fk_team_home_site_id_site"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team")),
        sa.UniqueConstraint("name", name=op.f("uq_team_name")),
        sa.UniqueConstraint("oidc_group", name=op.f("uq_team_oidc_group")),
    )
    op.create_table(
        "team_member",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_team_member_team_id_team"), ondelete="CASCADE"
        ),
        _user_fk("team_member"),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_team_member")),
    )
    op.create_index(op.f("ix_team_member_user_id"), "team_member", ["user_id"], unique=False)
    op.create_table(
        "plan_sharing",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("share_with_team", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        _user_fk("plan_sharing"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_plan_sharing")),
    )


def downgrade() -> None:
    """Drop the plan and team tables."""
    op.drop_table("plan_sharing")
    op.drop_index(op.f("ix_team_member_user_id"), table_name="team_member")
    op.drop_table("team_member")
    op.drop_table("team")
    op.drop_index(op.f("ix_plan_pattern_site_id"), table_name="plan_pattern")
    op.drop_table("plan_pattern")
    op.drop_index(op.f("ix_work_plan_site_id"), table_name="work_plan")
    op.drop_index(op.f("ix_work_plan_day"), table_name="work_plan")
    op.drop_table("work_plan")
