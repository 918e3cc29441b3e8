"""The attempts' campaign index that every other campaign index already covers, dropped

``ix_call_attempts_campaign_id`` (``campaign_id`` alone) is the leading
column of both ``ix_call_attempts_campaign_claimed`` (campaign, claimed_at)
and ``ix_call_attempts_campaign_day`` (campaign, local_day): every query on
a campaign's attempts, and the ``SET NULL`` when a campaign is deleted, is
served by those. The planner inserts up to 500 attempts a tick, and each
kept one more index entry to write.

Revision ID: 0030_planner_idx
Revises: 0029_wbperf
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0030_planner_idx"
down_revision: str | None = "0029_wbperf"
branch_labels = None
depends_on = None

_NAME = "ix_call_attempts_campaign_id"


def upgrade() -> None:
    op.drop_index(_NAME, table_name="call_attempts", if_exists=True)


def downgrade() -> None:
    op.create_index(_NAME, "call_attempts", ["campaign_id"])
