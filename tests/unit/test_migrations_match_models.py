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
