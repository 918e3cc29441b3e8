"""Pacing: the account's last take instants, for the sliding one-second window

Revision ID: 0025_pacing2
Revises: 0021_dnc
Create Date: 2026-12-10 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_pacing2"
down_revision: str | None = "0021_dnc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PostgreSQL only uses it (SQLite paces in process); NULL reads as empty.
    with op.batch_alter_table("pacing_slots", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "recent",
                sa.ARRAY(sa.DateTime(timezone=True)).with_variant(sa.JSON(), "sqlite"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("pacing_slots", schema=None) as batch_op:
        batch_op.drop_column("recent")
