"""verification policy per campaign, document digits, debtor status, number opt-outs, reviews

Revision ID: 0005_verification
Revises: 0008_promise_plan
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ivr.store.models

revision = "0005_verification"
down_revision: str | None = "0008_promise_plan"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "verification_policy", sa.String(length=20), nullable=False, server_default="name"
            )
        )
    with op.batch_alter_table("debtors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_digits", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), nullable=False, server_default="active")
        )
    op.create_table(
        "number_opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=20), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_at", ivr.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["call_attempts.id"],
            name=op.f("fk_number_opt_outs_attempt_id_call_attempts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_number_opt_outs")),
        sa.UniqueConstraint("e164", name=op.f("uq_number_opt_outs_e164")),
    )
    op.create_table(
        "debtor_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("e164", sa.String(length=20), nullable=True),
        sa.Column("reported_at", ivr.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", ivr.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["call_attempts.id"],
            name=op.f("fk_debtor_reviews_attempt_id_call_attempts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["debtors.id"],
            name=op.f("fk_debtor_reviews_debtor_id_debtors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debtor_reviews")),
    )
    with op.batch_alter_table("debtor_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_debtor_reviews_debtor_id"), ["debtor_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("debtor_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_debtor_reviews_debtor_id"))
    op.drop_table("debtor_reviews")
    op.drop_table("number_opt_outs")
    with op.batch_alter_table("debtors", schema=None) as batch_op:
        batch_op.drop_column("status")
        batch_op.drop_column("document_digits")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("verification_policy")
