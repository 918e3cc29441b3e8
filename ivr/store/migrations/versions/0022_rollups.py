"""Daily KPI roll-ups per campaign and local day, their watermarks, and the
indexes the roll-up job reads through (the attempts' (campaign_id, local_day)
index is the wallboard's, from 0026_wallboard)

Revision ID: 0022_rollups
Revises: 0028_planner
Create Date: 2026-12-12 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ivr.store.models

revision = "0022_rollups"
down_revision: str | None = "0028_planner"
branch_labels = None
depends_on = None

_COUNTS = (
    "attempts",
    "contacts",
    "rpcs",
    "promises",
    "promises_falling_due",
    "promises_kept",
    "promises_settled",
    "transfers",
    "abandoned",
    "handled",
)


def upgrade() -> None:
    op.create_table(
        "daily_campaign_stats",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS],
        sa.Column("promised_cents", sa.BigInteger(), nullable=False),
        sa.Column("collected_cents", sa.BigInteger(), nullable=False),
        sa.Column("assigned_cents", sa.BigInteger(), nullable=False),
        sa.Column("talk_s", sa.Float(), nullable=False),
        sa.Column("hold_s", sa.Float(), nullable=False),
        sa.Column("wrap_s", sa.Float(), nullable=False),
        sa.Column("refreshed_at", ivr.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_daily_campaign_stats_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "local_day", name=op.f("pk_daily_campaign_stats")),
    )
    op.create_table(
        "rollup_watermarks",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("ran_at", ivr.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rollup_watermarks")),
    )
    op.create_index("ix_promises_promised_date", "promises", ["promised_date"])
    op.create_index(op.f("ix_payments_paid_on"), "payments", ["paid_on"])
    op.create_index(op.f("ix_debts_created_at"), "debts", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_debts_created_at"), table_name="debts")
    op.drop_index(op.f("ix_payments_paid_on"), table_name="payments")
    op.drop_index("ix_promises_promised_date", table_name="promises")
    op.drop_table("rollup_watermarks")
    op.drop_table("daily_campaign_stats")
