"""Indexes the wallboard's aggregate queries read: today's attempts per
campaign, today's transfers and the transfers still open

Revision ID: 0026_wallboard
Revises: 0027_campaign_ui
Create Date: 2027-02-01 10:00:00

``ix_call_attempts_campaign_day`` is the index the daily roll-ups use too;
it is created only if it does not exist yet, so either migration may come
first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026_wallboard"
down_revision: str | None = "0027_campaign_ui"
branch_labels = None
depends_on = None

_OPEN = "status IN ('requested', 'dialing', 'queued', 'connected')"


def upgrade() -> None:
    op.create_index(
        "ix_call_attempts_campaign_day",
        "call_attempts",
        ["campaign_id", "local_day"],
        if_not_exists=True,
    )
    op.create_index("ix_transfers_requested_at", "transfers", ["requested_at"])
    op.create_index(
        "ix_transfers_open",
        "transfers",
        ["requested_at"],
        postgresql_where=sa.text(_OPEN),
        sqlite_where=sa.text(_OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_transfers_open", table_name="transfers")
    op.drop_index("ix_transfers_requested_at", table_name="transfers")
    op.drop_index("ix_call_attempts_campaign_day", table_name="call_attempts", if_exists=True)
