"""The migrations build exactly the schema the models describe.

A column added to a model without its migration (or the reverse) works in a
test that builds tables from the models and breaks on a real upgrade; this
compares the migrated SQLite and PostgreSQL schemas with the models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from ivr.store.models import Base


def _differences(sync_url: str) -> list[Any]:
    engine = create_engine(sync_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"compare_type": False, "compare_server_default": False}
            )
            diffs = compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()
    # Partial indexes are declared per dialect; alembic cannot compare their
    # predicates, so only tables, columns and index *names* are checked.
    return [
        d
        for d in diffs
        if not (
            isinstance(d, tuple) and d[0] in ("add_index", "remove_index") and _index_known(d[1])
        )
    ]


def _index_known(index: Any) -> bool:
    table = Base.metadata.tables.get(index.table.name)
    return table is not None and any(i.name == index.name for i in table.indexes)


def test_sqlite_migrations_match_models(sqlite_template: Path) -> None:
    assert _differences(f"sqlite:///{sqlite_template}") == []


@pytest.mark.postgres
def test_postgres_migrations_match_models(pg_url: str) -> None:
    sync = pg_url.replace("+asyncpg", "+psycopg") if "+asyncpg" in pg_url else pg_url
    assert _differences(sync) == []


@pytest.mark.postgres
def test_postgres_day_counts_read_the_index_alone(pg_url: str) -> None:
    """The wallboard's per-campaign count of the day (outbound, answered, last
    claimed) is served by ``ix_call_attempts_campaign_day`` without visiting
    the rows: at 10 million attempts that visit cost ~280 ms a snapshot."""
    from sqlalchemy import text

    sync = pg_url.replace("+asyncpg", "+psycopg") if "+asyncpg" in pg_url else pg_url
    engine = create_engine(sync)
    try:
        with engine.connect() as conn:
            conn.execute(text("SET enable_seqscan = off"))
            conn.execute(text("SET enable_bitmapscan = off"))
            plan = "\n".join(
                r[0]
                for r in conn.execute(
                    text(
                        "EXPLAIN SELECT campaign_id, count(*), count(answered_at), "
                        "max(claimed_at) FROM call_attempts WHERE campaign_id IN (1, 2) "
                        "AND local_day = DATE '2026-11-30' AND direction = 'outbound' "
                        "GROUP BY campaign_id"
                    )
                )
            )
    finally:
        engine.dispose()
    assert "Index Only Scan using ix_call_attempts_campaign_day" in plan, plan
