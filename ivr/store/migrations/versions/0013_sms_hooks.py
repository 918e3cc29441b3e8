"""SMS opt-outs of numbers no debtor is known by (STOP from an unknown number)

Revision ID: 0013_sms_hooks
Revises: 0014_reminders
Create Date: 2026-12-10 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ivr.store.models

revision = "0013_sms_hooks"
down_revision: str | None = "0014_reminders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_number_opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=20), nullable=False),
        sa.Column("message_sid", sa.String(length=40), nullable=True),
        sa.Column("created_at", ivr.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_number_opt_outs")),
        sa.UniqueConstraint("e164", name=op.f("uq_sms_number_opt_outs_e164")),
    )


def downgrade() -> None:
    op.drop_table("sms_number_opt_outs")
