"""A pooled PostgreSQL connection is pinged before use only after sitting idle.

The pool's own pre-ping cost three round trips at every checkout; a connection
back in use within ``IDLE_PING_S`` is now handed out as it is, and an idle one
is still pinged and, if its server side is gone, replaced before a statement
can fail on it (``ivr.store.db._ping_when_idle``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.ext.asyncio import AsyncEngine

from ivr.store import db
from ivr.store.db import make_engine

pytestmark = pytest.mark.postgres


@pytest.fixture
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(pg_url, pool_size=1, max_overflow=0)
    yield eng
    await eng.dispose()


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []
    real = AsyncAdapt_asyncpg_connection.ping

    def counting(self: Any) -> None:
        seen.append(1)
        real(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counting)
    return seen


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT pg_backend_pid()")))


async def test_a_connection_back_in_use_soon_is_not_pinged(
    engine: AsyncEngine, pings: list[int]
) -> None:
    first = await _backend_pid(engine)
    for _ in range(5):
        assert await _backend_pid(engine) == first  # the same pooled connection
    assert pings == []


async def test_an_idle_connection_whose_server_side_died_is_replaced_unseen(
    engine: AsyncEngine, pings: list[int], pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _backend_pid(engine)
    killer = await asyncpg.connect(pg_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        assert await killer.fetchval("SELECT pg_terminate_backend($1)", first)
    finally:
        await killer.close()
    monkeypatch.setattr(db, "IDLE_PING_S", 0.0)  # as if it sat idle long enough
    second = await _backend_pid(engine)  # no error: the ping found it dead
    assert second != first
    assert pings  # it was pinged
