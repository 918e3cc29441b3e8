"""Reminders: at most one live reminder SMS per promise

Revision ID: 0014_reminders
Revises: 0012_inbound
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_reminders"
down_revision: str | None = "0012_inbound"
branch_labels = None
depends_on = None

# A refused reminder (status failed) leaves the index: it may be tried again.
_LIVE = "purpose = 'reminder' AND status <> 'failed'"


def upgrade() -> None:
    op.create_index(
        "uq_sms_messages_promise_reminder",
        "sms_messages",
        ["promise_id"],
        unique=True,
        postgresql_where=sa.text(_LIVE),
        sqlite_where=sa.text(_LIVE),
    )


def downgrade() -> None:
    op.drop_index("uq_sms_messages_promise_reminder", table_name="sms_messages")
