"""The phones' index on ``debtor_id`` alone, dropped: the unique index covers it

``uq_phones_debtor_id`` is unique on (debtor_id, e164), so its leading
column serves every lookup of a person's numbers (the planner's snapshot
already reads through it) and the ``ON DELETE CASCADE`` from debtors.
``ix_phones_debtor_id`` was one more index entry for every number an import
writes (a million-row portfolio writes a million of them).

Revision ID: 0031_phones_idx
Revises: 0030_planner_idx
Create Date: 2026-12-02 22:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0031_phones_idx"
down_revision: str | None = "0030_planner_idx"
branch_labels = None
depends_on = None

_NAME = "ix_phones_debtor_id"


def upgrade() -> None:
    op.drop_index(_NAME, table_name="phones", if_exists=True)


def downgrade() -> None:
    op.create_index(_NAME, "phones", ["debtor_id"])
