"""Engine and session factory for SQLite (embedded default) and PostgreSQL,
and the two statements that need an engine rather than a session: the
readiness ping and PostgreSQL's NOTIFY (sent outside any transaction)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event, exc, text
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
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine)
    return engine


# A pooled connection back in use within this many seconds is taken as alive.
IDLE_PING_S = 5.0
_CHECKED_IN = "ivr_checked_in_at"


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection before use only if it sat idle a while.

    The pool's own pre-ping costs three round trips on PostgreSQL (BEGIN, an
    empty query, ROLLBACK) at every checkout: more than many requests' own
    work, and nine per planner tick. A connection checked in less than
    :data:`IDLE_PING_S` ago is handed out as it is; an older one is pinged
    and, if the server is gone (a restart, an idle timeout), replaced before
    anyone sees it. What this gives up: a restart within those seconds fails
    the next statement on each such connection once (the pool then discards
    every connection it holds), as a restart fails statements in flight.
    """

    @event.listens_for(engine.sync_engine, "connect")
    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()  # just opened, or just used

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN)
        if since is not None and time.monotonic() - since < IDLE_PING_S:
            return
        try:
            dbapi_conn.ping()  # the dialect's own ping, run in the checkout's greenlet
        except Exception as error:
            raise exc.DisconnectionError("the pooled connection is gone") from error


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
