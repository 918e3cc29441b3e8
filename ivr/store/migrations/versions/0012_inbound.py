"""inbound calls: a direction per attempt, unidentified callers, inbound campaign settings

An inbound call is an attempt with ``direction = 'inbound'``; a caller whose
number no debtor has belongs to nobody until they identify, so ``debtor_id``
may be NULL. The one-live-call-per-debtor index now covers outbound calls
only (a person may call us while a call to them is being claimed).

Revision ID: 0012_inbound
Revises: 0011_plans
Create Date: 2026-12-14 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ivr.store.models

revision = "0012_inbound"
down_revision: str | None = "0011_plans"
branch_labels = None
depends_on = None

_LIVE = "status IN ('claimed', 'unknown', 'queued', 'initiated', 'ringing', 'in-progress')"
_LIVE_OUTBOUND = f"direction = 'outbound' AND {_LIVE}"


def _live_index(batch_op: object, where: str) -> None:
    batch_op.create_index(  # type: ignore[attr-defined]
        "uq_call_attempts_live_debtor",
        ["debtor_id"],
        unique=True,
        postgresql_where=sa.text(where),
        sqlite_where=sa.text(where),
    )


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "inbound_verification_policy",
                sa.String(length=20),
                nullable=False,
                server_default="name_and_factor",
            )
        )
        batch_op.add_column(
            sa.Column(
                "inbound_suppresses_today", sa.Boolean(), nullable=False, server_default=sa.true()
            )
        )
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("direction", sa.String(length=10), nullable=False, server_default="outbound")
        )
        batch_op.add_column(
            sa.Column("verified_at", ivr.store.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.alter_column("debtor_id", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_index("uq_call_attempts_live_debtor")
        _live_index(batch_op, _LIVE_OUTBOUND)


def downgrade() -> None:
    op.execute("DELETE FROM call_attempts WHERE debtor_id IS NULL")
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.drop_index("uq_call_attempts_live_debtor")
        _live_index(batch_op, _LIVE)
        batch_op.alter_column("debtor_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("verified_at")
        batch_op.drop_column("direction")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("inbound_suppresses_today")
        batch_op.drop_column("inbound_verification_policy")
