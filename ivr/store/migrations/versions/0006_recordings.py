"""call recordings: a campaign setting and the recording of each attempt

Revision ID: 0006_recordings
Revises: 0005_verification
Create Date: 2026-12-09 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ivr.store.models

revision = "0006_recordings"
down_revision: str | None = "0005_verification"
branch_labels = None
depends_on = None

_KEPT_RECORDING_SQL = "recording_sid IS NOT NULL AND recording_deleted_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("record_calls", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recording_requested", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("recording_sid", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column(
                "recording_status",
                sa.Enum(
                    "in-progress",
                    "completed",
                    "absent",
                    "failed",
                    "deleted",
                    name="recordingstatus",
                    native_enum=False,
                    length=20,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("recording_duration_s", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("recording_url", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "recording_started_at", ivr.store.models.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "recording_deleted_at", ivr.store.models.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_call_attempts_recording_sid"), ["recording_sid"]
        )
        batch_op.create_index(
            "ix_call_attempts_recording_kept",
            ["recording_started_at"],
            unique=False,
            postgresql_where=sa.text(_KEPT_RECORDING_SQL),
            sqlite_where=sa.text(_KEPT_RECORDING_SQL),
        )


def downgrade() -> None:
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_call_attempts_recording_kept")
        batch_op.drop_constraint(batch_op.f("uq_call_attempts_recording_sid"), type_="unique")
        for column in (
            "recording_deleted_at",
            "recording_started_at",
            "recording_url",
            "recording_duration_s",
            "recording_status",
            "recording_sid",
            "recording_requested",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("record_calls")
