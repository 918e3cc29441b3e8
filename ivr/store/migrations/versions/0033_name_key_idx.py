"""The debtors' index on ``name_key``, dropped: no search used it, every write paid for it

The name search (``ivr.store.timeline.search``) matches the start of any
word of the folded name: ``name_key LIKE 'word%' OR name_key LIKE '% word%'``.
The second form can never use a B-tree, so the search reads the table on
either database (and on PostgreSQL with a non-C collation neither form
could use it). Meanwhile every new version of a person's row added an entry
to it: each import row, and each of the planner's hints (hundreds per
tick), the costliest of the row's four index entries (a 200-character
string). Dropping it halves the time of the planner's hint writes.

Revision ID: 0033_name_key_idx
Revises: 0032_attempt_sids
Create Date: 2026-12-03 04:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0033_name_key_idx"
down_revision: str | None = "0032_attempt_sids"
branch_labels = None
depends_on = None

_NAME = "ix_debtors_name_key"


def upgrade() -> None:
    op.drop_index(_NAME, table_name="debtors", if_exists=True)


def downgrade() -> None:
    op.create_index(_NAME, "debtors", ["name_key"])
