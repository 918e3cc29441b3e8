"""The planner's hints move out of ``debtors`` into their own narrow table

Every tick stores up to 500 hints. ``debtors.next_attempt_at`` is indexed
(the planner's queue), so each hint was an update that could not stay on
its page: a new copy of the person's wide row and an entry in each of the
table's four indexes. ``planner_queue`` holds one narrow row per person the
planner has looked at, indexed by instant. ``debtors.next_attempt_at``
stays as the "look at once" mark: NULL for a person new or changed since
the planner last looked, the queue's head (``ix_debtors_fresh``).

Revision ID: 0032_planner_queue
Revises: 0031_phones_idx
Create Date: 2026-12-02 22:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ivr.store.models

revision = "0032_planner_queue"
down_revision: str | None = "0031_phones_idx"
branch_labels = None
depends_on = None

_FRESH = "next_attempt_at IS NULL AND opted_out_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "planner_queue",
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("due_at", ivr.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["debtors.id"],
            name=op.f("fk_planner_queue_debtor_id_debtors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("debtor_id", name=op.f("pk_planner_queue")),
    )
    op.execute(
        "INSERT INTO planner_queue (debtor_id, due_at) SELECT id, next_attempt_at FROM debtors "
        "WHERE next_attempt_at IS NOT NULL AND opted_out_at IS NULL"
    )
    op.create_index(op.f("ix_planner_queue_due_at"), "planner_queue", ["due_at"])
    op.drop_index("ix_debtors_next_attempt_at", table_name="debtors", if_exists=True)
    op.create_index(
        "ix_debtors_fresh",
        "debtors",
        ["id"],
        postgresql_where=sa.text(_FRESH),
        sqlite_where=sa.text(_FRESH),
    )


def downgrade() -> None:
    op.execute(
        "UPDATE debtors SET next_attempt_at = (SELECT q.due_at FROM planner_queue q "
        "WHERE q.debtor_id = debtors.id) WHERE next_attempt_at IS NOT NULL"
    )
    op.drop_index("ix_debtors_fresh", table_name="debtors")
    op.create_index(
        "ix_debtors_next_attempt_at",
        "debtors",
        ["next_attempt_at"],
        postgresql_where=sa.text("opted_out_at IS NULL"),
        sqlite_where=sa.text("opted_out_at IS NULL"),
    )
    op.drop_index(op.f("ix_planner_queue_due_at"), table_name="planner_queue")
    op.drop_table("planner_queue")
