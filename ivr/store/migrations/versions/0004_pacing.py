"""shared pacing slots and a retry plan per campaign

Revision ID: 0004_pacing
Revises: 0003_sessions
Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ivr.store.models

revision = "0004_pacing"
down_revision: str | None = "0003_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pacing_slots",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("next_at", ivr.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_pacing_slots")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retry_delays_minutes", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("retry_delays_minutes")
    op.drop_table("pacing_slots")
