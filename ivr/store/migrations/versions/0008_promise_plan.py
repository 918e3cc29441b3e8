"""a campaign says what a promise for a weekend or holiday becomes

Revision ID: 0008_promise_plan
Revises: 0007_creditor_spoken
Create Date: 2026-12-09 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_promise_plan"
down_revision: str | None = "0007_creditor_spoken"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "promise_on_closed_day",
                sa.Enum(
                    "accept",
                    "next_business_day",
                    name="closeddaypromise",
                    native_enum=False,
                    length=20,
                ),
                nullable=False,
                server_default="next_business_day",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("promise_on_closed_day")
