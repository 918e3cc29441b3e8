"""payment details on debts (link, Pix code, boleto line) and creditors' Pix keys

Revision ID: 0010_payment_details
Revises: 0009_sms
Create Date: 2026-12-12 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ivr.store.models

revision = "0010_payment_details"
down_revision: str | None = "0009_sms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("debts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment_url", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("pix_code", sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column("boleto_line", sa.String(length=47), nullable=True))
    op.create_table(
        "creditors",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("pix_key", sa.String(length=77), nullable=True),
        sa.Column("pix_merchant_name", sa.String(length=25), nullable=True),
        sa.Column("pix_city", sa.String(length=15), nullable=True),
        sa.Column("updated_at", ivr.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_creditors")),
    )


def downgrade() -> None:
    op.drop_table("creditors")
    with op.batch_alter_table("debts", schema=None) as batch_op:
        batch_op.drop_column("boleto_line")
        batch_op.drop_column("pix_code")
        batch_op.drop_column("payment_url")
