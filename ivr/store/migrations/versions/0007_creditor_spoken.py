"""spoken forms of creditor names, per locale

Revision ID: 0007_creditor_spoken
Revises: 0004_pacing
Create Date: 2026-12-10 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ivr.store.models

revision = "0007_creditor_spoken"
down_revision: str | None = "0004_pacing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "creditor_spoken_forms",
        sa.Column("creditor", sa.String(length=200), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("spoken", sa.String(length=200), nullable=False),
        sa.Column("updated_at", ivr.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("creditor", "locale", name=op.f("pk_creditor_spoken_forms")),
    )


def downgrade() -> None:
    op.drop_table("creditor_spoken_forms")
