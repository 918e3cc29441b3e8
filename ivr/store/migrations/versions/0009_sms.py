"""SMS: messages to and from debtors, channel choices per debtor, SMS caps per campaign

Revision ID: 0009_sms
Revises: 0006_recordings
Create Date: 2026-12-02 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ivr.store.models

revision = "0009_sms"
down_revision: str | None = "0006_recordings"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str, length: int = 20) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=length)


_STATUSES = (
    "queued",
    "accepted",
    "scheduled",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "canceled",
    "receiving",
    "received",
    "read",
)
_PURPOSES = (
    "payment_details",
    "reminder",
    "opt_out_confirmation",
    "opt_in_confirmation",
    "reply",
)


def upgrade() -> None:
    utc = ivr.store.models.UTCDateTime(timezone=True)
    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=True),
        sa.Column("debt_id", sa.Integer(), nullable=True),
        sa.Column("promise_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("direction", _enum("smsdirection", "outbound", "inbound"), nullable=False),
        sa.Column("purpose", _enum("smspurpose", *_PURPOSES, length=30), nullable=False),
        sa.Column("to_number", sa.String(length=20), nullable=False),
        sa.Column("from_number", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("message_sid", sa.String(length=40), nullable=True),
        sa.Column("status", _enum("smsstatus", *_STATUSES), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("local_day", sa.Date(), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("status_at", utc, nullable=True),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["debtors.id"],
            name=op.f("fk_sms_messages_debtor_id_debtors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["debt_id"],
            ["debts.id"],
            name=op.f("fk_sms_messages_debt_id_debts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["promise_id"],
            ["promises.id"],
            name=op.f("fk_sms_messages_promise_id_promises"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_sms_messages_campaign_id_campaigns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["call_attempts.id"],
            name=op.f("fk_sms_messages_attempt_id_call_attempts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
        sa.UniqueConstraint("message_sid", name=op.f("uq_sms_messages_message_sid")),
    )
    op.create_index(op.f("ix_sms_messages_debtor_id"), "sms_messages", ["debtor_id"], unique=False)
    op.create_index(
        "ix_sms_messages_debtor_day", "sms_messages", ["debtor_id", "local_day"], unique=False
    )
    with op.batch_alter_table("debtors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sms_opted_out_at", utc, nullable=True))
        batch_op.add_column(
            sa.Column("calls_allowed", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("sms_allowed", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("preferred_channel", _enum("channel", "call", "sms"), nullable=True)
        )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sms_daily_cap", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column("reminder_days_before", sa.Integer(), nullable=False, server_default="1")
        )


def downgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("reminder_days_before")
        batch_op.drop_column("sms_daily_cap")
    with op.batch_alter_table("debtors", schema=None) as batch_op:
        for column in ("preferred_channel", "sms_allowed", "calls_allowed", "sms_opted_out_at"):
            batch_op.drop_column(column)
    op.drop_index("ix_sms_messages_debtor_day", table_name="sms_messages")
    op.drop_index(op.f("ix_sms_messages_debtor_id"), table_name="sms_messages")
    op.drop_table("sms_messages")
