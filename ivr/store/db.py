"""Engine and session factory for SQLite (embedded default) and PostgreSQL,
and the two statements that need an engine rather than a session: the
readiness ping and PostgreSQL's NOTIFY (sent outside any transaction)."""

from __future__ import annotations

import asyncio
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
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util import await_


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create an async engine; SQLite gets WAL, a busy timeout and foreign keys.

    SQLite transactions start with ``BEGIN IMMEDIATE`` so that a cap check and
    the claim that follows it hold the write lock together: the embedded
    default is as safe as PostgreSQL's row locks, just not as concurrent.
    Since every transaction takes the write lock, the process gets one
    connection, handed out in turn (:class:`_SqliteTurns`): SQLite's busy
    timeout is no queue, and many connections of one process waiting on the
    lock let a transaction starve into "database is locked" (see there).

    ``hide_parameters``: a failing statement's parameters (a promise's amount
    and date, a phone number) must not reach the error's text, which is logged.
    """
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        kwargs["poolclass"] = _SqliteTurns
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


def make_callback_engine(url: str, pool_size: int = 2, max_overflow: int = 4) -> AsyncEngine | None:
    """PostgreSQL connections for carrier status callbacks; None on SQLite.

    Autocommit, so a callback's one statement is its transaction (no BEGIN
    and COMMIT round trips), and ``synchronous_commit = off`` for every
    transaction they run: these callbacks are idempotent telemetry, a
    database crash can lose at most the last fraction of a second of them
    (never corrupt anything), and the dialer reconciles attempts whose final
    status never arrived by asking the carrier. Waiting for each fsync put
    the 99th percentile at ~100 ms on this disk. Nothing else uses these
    connections: promises and opt-outs keep waiting for the disk.
    """
    if not url.startswith("postgresql"):
        return None
    return make_engine(
        url,
        isolation_level="AUTOCOMMIT",
        connect_args={"server_settings": {"synchronous_commit": "off"}},
        pool_size=pool_size,
        max_overflow=max_overflow,
    )


class _SqliteTurns(AsyncAdaptedQueuePool):
    """One SQLite connection, handed to whoever asked for it first.

    Why: a transaction waiting for SQLite's write lock does not queue. Its
    busy handler retries after growing sleeps (1 ms, 2 ms, ... then every
    100 ms) and gives up with "database is locked" once they add up to the
    busy timeout, however short each holder's turn was. A newcomer tries at
    once and then within milliseconds, so when the lock is let go it is
    nearly always a newcomer (or the committing task's next transaction)
    that catches it, rarely the old waiter between two of its polls. With a
    pool of connections all taking the write lock, the demo (200 debtors, 40
    channels of webhooks) had transactions wait 4 to 9 s for a lock nobody
    held longer than 0.2 to 0.9 s, the tail growing with the machine's load;
    the one "database is locked" it met on a heavily loaded machine was, as
    far as we can tell, that tail reaching 30 s.

    Every SQLite transaction here takes the write lock (``BEGIN IMMEDIATE``),
    so more connections bought no concurrency anyway. With one connection
    the process's transactions wait here, in an :class:`asyncio.Lock`,
    which wakes waiters in the order they came and lets no newcomer pass one
    that was woken (the pool's own queue would: a task that checks a
    connection in and at once out again keeps it). The busy timeout is left
    to other processes on the same file (``ivr import`` beside ``ivr
    serve``), where it still behaves as above. ``pool_timeout`` (30 s)
    bounds the wait for a turn; a task holding a session while it opens a
    second one waits on itself until then, as it waited on its own write
    lock before.
    """

    def __init__(self, creator: Any, **kw: Any) -> None:
        kw.update(pool_size=1, max_overflow=0)
        super().__init__(creator, **kw)
        self._turn = asyncio.Lock()

    def _do_get(self) -> ConnectionPoolEntry:
        try:
            await_(asyncio.wait_for(self._turn.acquire(), self._timeout))
        except TimeoutError:
            raise exc.TimeoutError(
                f"no turn on the SQLite connection within {self._timeout:.0f} s"
            ) from None
        try:
            return super()._do_get()
        except BaseException:
            self._turn.release()
            raise

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        try:
            super()._do_return_conn(record)
        finally:
            self._turn.release()


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
