"""The wallboard's day index carries the columns it counts (PostgreSQL)

Revision ID: 0029_wbperf
Revises: 0022_rollups
Create Date: 2026-12-02 17:00:00

The wallboard counts each campaign's attempts of its local day (outbound,
answered, last claimed) every second on every replica. Through the plain
``(campaign_id, local_day)`` index that is a visit to every one of the day's
rows (~110,000 at 10 million attempts over 90 days, ~280 ms); with the
counted columns in the index (``INCLUDE``) it is an index-only scan. The
same keys still serve the daily roll-ups. SQLite has no ``INCLUDE``: there
the index stays as it was.
"""

from __future__ import annotations

from alembic import op

revision = "0029_wbperf"
down_revision: str | None = "0022_rollups"
branch_labels = None
depends_on = None

_NAME = "ix_call_attempts_campaign_day"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(_NAME, table_name="call_attempts", if_exists=True)
    op.create_index(
        _NAME,
        "call_attempts",
        ["campaign_id", "local_day"],
        postgresql_include=["direction", "answered_at", "claimed_at"],
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(_NAME, table_name="call_attempts")
    op.create_index(_NAME, "call_attempts", ["campaign_id", "local_day"])
