"""Engine and session factory for SQLite (embedded default) and PostgreSQL,
and the two statements that need an engine rather than a session: the
readiness ping and PostgreSQL's NOTIFY (sent outside any transaction)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create an async engine; SQLite gets WAL, a busy timeout and foreign keys.

    SQLite transactions start with ``BEGIN IMMEDIATE`` so that a cap check and
    the claim that follows it hold the write lock together: the embedded
    default is as safe as PostgreSQL's row locks, just not as concurrent.

    ``hide_parameters``: a failing statement's parameters (a promise's amount
    and date, a phone number) must not reach the error's text, which is logged.
    """
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # let SQLAlchemy emit BEGIN itself
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL keeps the database consistent on power loss and
            # only risks the last commits; it avoids an fsync per transaction.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@contextlib.asynccontextmanager
async def open_sessions(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory for one command's lifetime; the engine is disposed after."""
    engine = make_engine(url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


async def ping(engine: AsyncEngine) -> None:
    """One round trip to the database; raises whatever the driver raises when it is down."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def notify(engine: AsyncEngine, channel: str, payload: str) -> None:
    """PostgreSQL ``NOTIFY`` on ``channel``, committed at once (listeners on every
    replica get it); the payload must stay under PostgreSQL's 8000 bytes."""
    async with engine.connect() as conn:
        await conn.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": channel, "payload": payload},
        )
        await conn.commit()
