"""On SQLite a transaction gets its turn however busy the process keeps the store.

Every SQLite transaction takes the write lock (``BEGIN IMMEDIATE``). A
transaction waiting for it does not queue: SQLite's busy handler polls,
every 100 ms once it has waited a while, and raises "database is locked"
when its busy timeout is spent. When another task of the process lets the
lock go and at once takes it again (its next transaction), the gap lasts
a hop through the event loop, and the waiter's polls all but never land in
it: it failed though no transaction held the lock for long. In the demo
(40 channels of webhooks taking turns) this made waits of many seconds
behind holds of a fraction of one, and most likely the "database is locked"
it met once on a loaded machine. The process's transactions now wait for
its one connection in the order they asked (``ivr.store.db._SqliteTurns``).

The tests shorten SQLite's busy timeout (30 s in ``make_engine``) to
:data:`BUSY_MS` on the engine's connections, so that the old behaviour fails
within a second instead of half a minute.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ivr.store.db import make_engine, make_sessionmaker

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

BUSY_MS = 1000  # SQLite's busy timeout on the test's connections
HOLD_S = 0.2  # each of the busy task's transactions holds the store this long


def _engine(url: str, **kwargs: Any) -> AsyncEngine:
    eng = make_engine(url, **kwargs)

    @event.listens_for(eng.sync_engine, "connect")
    def _short_busy_timeout(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        cur.close()

    return eng


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = _engine(db_url)
    async with eng.begin() as conn:
        await conn.execute(text("CREATE TABLE turns (who TEXT, at REAL)"))
    yield eng
    await eng.dispose()


async def _take(sessions: async_sessionmaker[AsyncSession], who: str, hold_s: float) -> None:
    async with sessions() as s, s.begin():
        await s.execute(text("INSERT INTO turns VALUES (:who, :at)"), {"who": who, "at": 0})
        await asyncio.sleep(hold_s)  # held across awaits, as a webhook's transaction is


@SQLITE
async def test_a_waiting_transaction_gets_the_store_between_another_tasks_transactions(
    engine: AsyncEngine,
) -> None:
    """One task keeps taking the store back to back, a short while each time;
    a transaction asking meanwhile runs after the current one, well within
    SQLite's busy timeout."""
    sessions = make_sessionmaker(engine)
    busy = asyncio.Event()
    stop = asyncio.Event()

    async def keep_busy() -> int:
        turns = 0
        while not stop.is_set():
            await _take(sessions, "busy", HOLD_S)
            turns += 1
            busy.set()
        return turns

    busy_task = asyncio.create_task(keep_busy())
    await busy.wait()
    await asyncio.sleep(HOLD_S / 2)  # the busy task is inside its next transaction
    asked = time.monotonic()
    try:
        await _take(sessions, "waiter", 0)
    finally:
        waited = time.monotonic() - asked
        stop.set()
        await busy_task
    assert waited < 2 * HOLD_S + 0.3, f"waited {waited:.2f} s for the store"


@SQLITE
async def test_transactions_get_the_store_in_the_order_they_asked(engine: AsyncEngine) -> None:
    """Whoever asked first goes first, a newcomer does not pass an old waiter."""
    sessions = make_sessionmaker(engine)
    order: list[str] = []
    holder_in = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with sessions() as s, s.begin():
            await s.execute(text("INSERT INTO turns VALUES ('holder', 0)"))
            holder_in.set()
            await release.wait()
        order.append("holder")
        await _take(sessions, "holder again", 0)  # straight back for more
        order.append("holder again")

    async def one(who: str) -> None:
        await _take(sessions, who, 0)
        order.append(who)

    tasks = [asyncio.create_task(holder())]
    await holder_in.wait()
    tasks.append(asyncio.create_task(one("old waiter")))
    await asyncio.sleep(0.5)  # long enough for a busy handler to poll only every 100 ms
    tasks.append(asyncio.create_task(one("newcomer")))
    await asyncio.sleep(0.005)
    release.set()
    await asyncio.gather(*tasks)
    assert order == ["holder", "old waiter", "newcomer", "holder again"]


@SQLITE
async def test_a_turn_is_given_back_when_its_task_is_cancelled(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    inside = asyncio.Event()

    async def cancelled_inside() -> None:
        async with sessions() as s, s.begin():
            await s.execute(text("INSERT INTO turns VALUES ('cancelled', 0)"))
            inside.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(cancelled_inside())
    await inside.wait()
    waiter = asyncio.create_task(_take(sessions, "after", 0))
    await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.wait_for(waiter, 5)
    async with sessions() as s:
        assert (await s.scalars(text("SELECT who FROM turns"))).all() == ["after"]


@SQLITE
async def test_a_task_holding_the_store_that_asks_again_times_out_plainly(db_url: str) -> None:
    """A session opened inside another's transaction waits on itself: it fails
    after ``pool_timeout`` with SQLAlchemy's TimeoutError, not a lock error."""
    engine = _engine(db_url, pool_timeout=0.3)
    sessions = make_sessionmaker(engine)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE turns (who TEXT, at REAL)"))
        async with sessions() as outer, outer.begin():
            await outer.execute(text("SELECT 1"))
            with pytest.raises(exc.TimeoutError):
                await _take(sessions, "inner", 0)
        await _take(sessions, "later", 0)  # the turn went back with the outer session
    finally:
        await engine.dispose()


async def test_a_connection_that_cannot_open_gives_its_turn_back(tmp_path: Any) -> None:
    engine = _engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'ivr.db'}", pool_timeout=1)
    try:
        for _ in range(2):  # the second try fails the same way, not by waiting a turn
            with pytest.raises(exc.OperationalError):
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
        # aiosqlite stops the thread of a connection that failed to open
        # without waiting; its answer must find this test's loop still open.
        await asyncio.sleep(0.1)
