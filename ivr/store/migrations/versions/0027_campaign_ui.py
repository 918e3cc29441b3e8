"""An index for "calls placed today" per campaign on the console's campaign list

Without it the count reads every attempt of every campaign; with it each
campaign's attempts since midnight are one index range.

Revision ID: 0027_campaign_ui
Revises: 0025_pacing2
Create Date: 2027-02-01 10:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0027_campaign_ui"
down_revision: str | None = "0025_pacing2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_call_attempts_campaign_claimed",
        "call_attempts",
        ["campaign_id", "claimed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_call_attempts_campaign_claimed", table_name="call_attempts")
