"""Do-not-call lists, the log of supervisors' actions on a person, a searchable name

Revision ID: 0021_dnc
Revises: 0020_console
Create Date: 2027-01-20 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ivr.store.models
from ivr.store.name_key import fold_name

revision = "0021_dnc"
down_revision: str | None = "0020_console"
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "dnc_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=80), nullable=False),
        sa.Column("e164", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("added_by", sa.String(length=80), nullable=False),
        sa.Column("added_at", ivr.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnc_numbers")),
        sa.UniqueConstraint("list_name", "e164", name=op.f("uq_dnc_numbers_list_name")),
    )
    op.create_index("ix_dnc_numbers_e164", "dnc_numbers", ["e164"])
    op.create_table(
        "debtor_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("by_user", sa.String(length=80), nullable=False),
        sa.Column("at", ivr.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["debtors.id"],
            name=op.f("fk_debtor_actions_debtor_id_debtors"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debtor_actions")),
    )
    op.create_index(op.f("ix_debtor_actions_debtor_id"), "debtor_actions", ["debtor_id"])
    with op.batch_alter_table("debtors") as batch:
        batch.add_column(
            sa.Column("name_key", sa.String(length=200), server_default="", nullable=False)
        )
    op.create_index(op.f("ix_debtors_name_key"), "debtors", ["name_key"])
    _fill_name_keys()


def _fill_name_keys() -> None:
    """Fold the names already stored (Python's Unicode tables, the same as new rows)."""
    conn = op.get_bind()
    debtors = sa.table("debtors", sa.column("id"), sa.column("name"), sa.column("name_key"))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(debtors.c.id, debtors.c.name)
            .where(debtors.c.id > last)
            .order_by(debtors.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        conn.execute(
            debtors.update()
            .where(debtors.c.id == sa.bindparam("b_id"))
            .values(name_key=sa.bindparam("b_key")),
            [{"b_id": r.id, "b_key": fold_name(r.name or "")} for r in rows],
        )
        last = rows[-1].id


def downgrade() -> None:
    op.drop_index(op.f("ix_debtors_name_key"), table_name="debtors")
    with op.batch_alter_table("debtors") as batch:
        batch.drop_column("name_key")
    op.drop_index(op.f("ix_debtor_actions_debtor_id"), table_name="debtor_actions")
    op.drop_table("debtor_actions")
    op.drop_index("ix_dnc_numbers_e164", table_name="dnc_numbers")
    op.drop_table("dnc_numbers")
