"""payment plans: instalments grouped in a plan, campaign limits and follow-up days

Revision ID: 0011_plans
Revises: 0010_payment_details
Create Date: 2026-12-10 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ivr.store.models

revision = "0011_plans"
down_revision: str | None = "0010_payment_details"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debt_id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column(
            "source",
            sa.Enum("ivr", "agent", "api", name="plansource", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "completed",
                "broken",
                "cancelled",
                name="planstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
            server_default="open",
        ),
        sa.Column("created_at", ivr.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["call_attempts.id"],
            name=op.f("fk_payment_plans_attempt_id_call_attempts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["debt_id"],
            ["debts.id"],
            name=op.f("fk_payment_plans_debt_id_debts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_plans")),
    )
    op.create_index(op.f("ix_payment_plans_debt_id"), "payment_plans", ["debt_id"], unique=False)
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_promises_plan_id_payment_plans"),
            "payment_plans",
            ["plan_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(batch_op.f("ix_promises_plan_id"), ["plan_id"], unique=False)
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("max_instalments", sa.Integer(), nullable=False, server_default="6")
        )
        batch_op.add_column(
            sa.Column("max_plan_days", sa.Integer(), nullable=False, server_default="180")
        )
        batch_op.add_column(
            sa.Column(
                "followup_after_broken_days", sa.Integer(), nullable=False, server_default="2"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        for column in ("followup_after_broken_days", "max_plan_days", "max_instalments"):
            batch_op.drop_column(column)
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promises_plan_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_promises_plan_id_payment_plans"), type_="foreignkey"
        )
        batch_op.drop_column("sequence")
        batch_op.drop_column("plan_id")
    op.drop_index(op.f("ix_payment_plans_debt_id"), table_name="payment_plans")
    op.drop_table("payment_plans")
