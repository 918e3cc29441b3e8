"""The attempts' carrier sids unique only where known (partial unique indexes)

``call_sid`` and ``recording_sid`` were unique constraints, whose indexes
hold a NULL entry for every attempt without one: every attempt at its claim
(the call is placed later) and most for ever (few calls are recorded). The
claim writes hundreds of attempts per tick; two index entries fewer each is
a tenth of the insert. Uniqueness of the known sids is unchanged, and every
lookup by sid (``= :sid``) implies ``IS NOT NULL``, so it uses the partial
index. SQLite rebuilds the table to drop the constraints.

Revision ID: 0032_attempt_sids
Revises: 0031_phones_idx
Create Date: 2026-12-03 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032_attempt_sids"
down_revision: str | None = "0031_phones_idx"
branch_labels = None
depends_on = None

_COLUMNS = ("call_sid", "recording_sid")


def upgrade() -> None:
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        for col in _COLUMNS:
            batch_op.drop_constraint(f"uq_call_attempts_{col}", type_="unique")
    for col in _COLUMNS:
        where = sa.text(f"{col} IS NOT NULL")
        op.create_index(
            f"uq_call_attempts_{col}",
            "call_attempts",
            [col],
            unique=True,
            postgresql_where=where,
            sqlite_where=where,
        )


def downgrade() -> None:
    for col in _COLUMNS:
        op.drop_index(f"uq_call_attempts_{col}", table_name="call_attempts")
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        for col in _COLUMNS:
            batch_op.create_unique_constraint(f"uq_call_attempts_{col}", [col])
