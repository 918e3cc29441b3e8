"""The facts the planner reads of each phone number, stored on the row

``phones.number_country`` and ``phones.number_zones`` (see
``ivr.number_facts``): derived once when a number is written instead of
being parsed again for every person on every planner tick. Existing rows are
filled here, in batches.

Revision ID: 0028_planner
Revises: 0026_wallboard
Create Date: 2027-02-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ivr.number_facts import ZONES_MAX, stored_facts

revision = "0028_planner"
down_revision: str | None = "0026_wallboard"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("phones") as batch:
        batch.add_column(sa.Column("number_country", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("number_zones", sa.String(length=ZONES_MAX), nullable=True))
    conn = op.get_bind()
    phones = sa.table(
        "phones",
        sa.column("id", sa.Integer),
        sa.column("e164", sa.String),
        sa.column("number_country", sa.String),
        sa.column("number_zones", sa.String),
    )
    update = (
        sa.update(phones)
        .where(phones.c.id == sa.bindparam("b_id"))
        .values(number_country=sa.bindparam("b_country"), number_zones=sa.bindparam("b_zones"))
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(phones.c.id, phones.c.e164)
            .where(phones.c.id > last)
            .order_by(phones.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        values = []
        for pid, e164 in rows:
            country, zones = stored_facts(e164)
            values.append({"b_id": pid, "b_country": country, "b_zones": zones})
        conn.execute(update, values)
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("phones") as batch:
        batch.drop_column("number_zones")
        batch.drop_column("number_country")
