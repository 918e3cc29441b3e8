"""The claim's attempts keep their keys whether or not the foreign-key triggers run (PostgreSQL).

Where the database user may, a claim skips the per-row foreign-key triggers
and holds the attempts' keys itself: the people's debts and numbers as the
snapshot reads them (``scheduler.eligibility_load_pg``), the campaigns in
the insert (``scheduler.batch_sql.PG_CLAIM_HELD``). Both ways must keep
what the constraint keeps: no attempt ever names a deleted row. A delete
that comes while the claim holds the number waits for its commit, then sets
the attempt's ``phone_id`` to NULL (``ON DELETE SET NULL``); a number
deleted after the snapshot read refuses the claim where the triggers check
it, and waits for the claim where the read holds it; a campaign deleted
before the insert refuses the claim either way. Each test runs both ways.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.store import fk_triggers
from ivr.store.db import make_engine, make_sessionmaker
from ivr.store.models import CallAttempt, Phone
from scheduler import batch_sql, claim
from scheduler.claim import claim_batch
from tests.support.claims import every_day, make_campaign, make_debtor

pytestmark = pytest.mark.postgres

T0 = dt.datetime(2026, 11, 24, 13, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in São Paulo


@pytest.fixture(params=[True, False], ids=["keys-held", "fk-triggers"])
def skip_triggers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.setattr(fk_triggers, "SKIP", request.param)
    return bool(request.param)


@pytest.fixture
async def sessions(pg_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(pg_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def _three_people(sessions: async_sessionmaker[AsyncSession]) -> list[int]:
    async with sessions() as s, s.begin():
        camp = await make_campaign(s, every_day())
        people = [await make_debtor(s, camp, phones=(f"+55119{i:08d}",)) for i in range(3)]
        return [p.phones[0].id for p in people]


async def test_the_claim_skips_the_triggers_only_where_asked(
    sessions: async_sessionmaker[AsyncSession], skip_triggers: bool
) -> None:
    async with sessions() as s, s.begin():
        await batch_sql.begin_claim(s)
        role = await s.scalar(text("SHOW session_replication_role"))
        sync = await s.scalar(text("SHOW synchronous_commit"))
    assert role == ("replica" if skip_triggers else "origin")
    assert sync == "off"
    async with sessions() as s:  # SET LOCAL: gone with the transaction
        assert await s.scalar(text("SHOW session_replication_role")) == "origin"


async def _delete_after_the_read(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, sql: str, key: int
) -> list[asyncio.Task[Any]]:
    """Delete a row from another connection right after the claim's snapshot read,
    waiting up to two seconds for the delete; the task is returned (still
    waiting if the claim holds the row)."""
    load = claim.load_snapshots
    started: list[asyncio.Task[Any]] = []

    async def load_then_delete(*args: Any, **kw: Any) -> Any:
        out = await load(*args, **kw)  # the snapshot has the row
        other = await asyncpg.connect(pg_url.replace("postgresql+asyncpg://", "postgresql://"))

        async def delete() -> None:
            try:
                await other.execute(sql, key)
            finally:
                await other.close()

        started.append(asyncio.create_task(delete()))
        await asyncio.wait(started, timeout=2)
        return out

    monkeypatch.setattr(claim, "load_snapshots", load_then_delete)
    return started


async def test_a_number_deleted_after_the_read_never_leaves_a_dangling_attempt(
    sessions: async_sessionmaker[AsyncSession],
    pg_url: str,
    skip_triggers: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    phone_ids = await _three_people(sessions)
    started = await _delete_after_the_read(
        pg_url, monkeypatch, "DELETE FROM phones WHERE id = $1", phone_ids[1]
    )
    if skip_triggers:  # the read holds the number: the delete waits for the claim
        claims = await claim_batch(sessions, T0, 10, "w1", parts=1)
        assert len(claims) == 3
        await asyncio.wait_for(started[0], 10)
        async with sessions() as s:
            kept = [a.phone_id for a in await s.scalars(select(CallAttempt))]
        assert sorted(p for p in kept if p is not None) == sorted([phone_ids[0], phone_ids[2]])
        assert kept.count(None) == 1
        return
    with pytest.raises(asyncpg.ForeignKeyViolationError):  # the trigger refuses it
        await claim_batch(sessions, T0, 10, "w1", parts=1)
    await asyncio.wait_for(started[0], 10)
    async with sessions() as s:
        assert (await s.scalars(select(CallAttempt.id))).all() == []


async def test_a_campaign_deleted_before_the_insert_refuses_the_claim(
    sessions: async_sessionmaker[AsyncSession],
    pg_url: str,
    skip_triggers: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _three_people(sessions)
    async with sessions() as s:
        campaign_id = await s.scalar(text("SELECT min(id) FROM campaigns"))
    # The debts' campaign_id is ON DELETE SET NULL: the delete updates the
    # debts, which the read holds only FOR KEY SHARE (no conflict).
    started = await _delete_after_the_read(
        pg_url, monkeypatch, "DELETE FROM campaigns WHERE id = $1", campaign_id
    )
    refused = batch_sql.KeyGone if skip_triggers else asyncpg.ForeignKeyViolationError
    with pytest.raises(refused):
        await claim_batch(sessions, T0, 10, "w1", parts=1)
    assert started[0].done()
    async with sessions() as s:
        assert (await s.scalars(select(CallAttempt.id))).all() == []


async def test_a_delete_waits_for_the_claim_then_clears_the_number(
    sessions: async_sessionmaker[AsyncSession],
    pg_url: str,
    skip_triggers: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    phone_ids = await _three_people(sessions)
    raw_url = pg_url.replace("postgresql+asyncpg://", "postgresql://")
    deleter = await asyncpg.connect(raw_url)
    watcher = await asyncpg.connect(raw_url)
    write = claim.write_claims
    pending: list[asyncio.Task[Any]] = []

    async def write_then_race(*args: Any, **kw: Any) -> Any:
        out = await write(*args, **kw)
        pending.append(
            asyncio.create_task(deleter.execute("DELETE FROM phones WHERE id = $1", phone_ids[0]))
        )
        for _ in range(200):  # the delete waits for the number the claim holds
            waiting = await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if waiting or pending[0].done():
                break
            await asyncio.sleep(0.02)
        assert waiting == 1 and not pending[0].done()
        return out

    monkeypatch.setattr(claim, "write_claims", write_then_race)
    try:
        claims = await claim_batch(sessions, T0, 10, "w1", parts=1)
        await asyncio.wait_for(pending[0], 10)
    finally:
        await deleter.close()
        await watcher.close()
    assert len(claims) == 3
    async with sessions() as s:
        attempts = {a.debtor_id: a.phone_id for a in await s.scalars(select(CallAttempt))}
        gone = await s.get(Phone, phone_ids[0])
    assert gone is None
    assert sorted(p for p in attempts.values() if p is not None) == sorted(phone_ids[1:])
    assert list(attempts.values()).count(None) == 1
