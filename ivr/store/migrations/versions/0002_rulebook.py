"""supervisor overrides on call attempts

Revision ID: 0002_rulebook
Revises: 0001
Create Date: 2026-12-02 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_rulebook"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_attempts") as batch:
        batch.add_column(sa.Column("override_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("override_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("override_codes", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_attempts") as batch:
        batch.drop_column("override_codes")
        batch.drop_column("override_reason")
        batch.drop_column("override_by")
