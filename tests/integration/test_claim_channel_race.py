"""Claims running at once (PostgreSQL): the campaign's channel limit, and people held elsewhere.

A claim counts the campaign's live calls before it inserts its attempts and
only locks the campaign afterwards, to count again (``scheduler.claim``). The
race that leaves room for is made to happen here every time: a test
connection holds the campaign's row while six claims, each on its own
connection, count an empty campaign and insert their attempts; all of them
then wait for the row. Once it is released they lock it one after the
other, and every claim after the first finds the campaign full and gives
its attempts back.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg
import pytest
from sqlalchemy import func, select

from ivr.store.db import make_engine, make_sessionmaker
from ivr.store.models import AttemptStatus, CallAttempt, Callback, CallbackStatus, Debtor
from scheduler.claim import ClaimStats, claim_batch
from tests.support.claims import every_day, make_campaign, make_debtor

pytestmark = pytest.mark.postgres

T0 = dt.datetime(2026, 11, 24, 13, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in São Paulo
CLAIMERS = 6
LIMIT = 5


async def test_channel_limit_holds_when_claims_race(pg_url: str) -> None:
    engine = make_engine(pg_url, pool_size=CLAIMERS + 2)
    sessions = make_sessionmaker(engine)
    raw_url = pg_url.replace("postgresql+asyncpg://", "postgresql://")
    holder = await asyncpg.connect(raw_url)
    # Not the holder: a transaction sees one picture of pg_stat_activity.
    watcher = await asyncpg.connect(raw_url)
    try:
        async with sessions() as s, s.begin():
            camp = await make_campaign(s, every_day(), max_concurrent_calls=LIMIT)
            for i in range(CLAIMERS * 10):
                await make_debtor(s, camp, phones=(f"+55119{i:08d}",))
            camp_id = camp.id

        gate = holder.transaction()
        await gate.start()
        await holder.execute("SELECT 1 FROM campaigns WHERE id = $1 FOR NO KEY UPDATE", camp_id)
        stats = [ClaimStats() for _ in range(CLAIMERS)]
        runs = [
            asyncio.create_task(claim_batch(sessions, T0, 10, f"w{i}", stats=stats[i]))
            for i in range(CLAIMERS)
        ]
        for _ in range(600):  # every claim inserted and now waits for the campaign
            waiting = await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if waiting == CLAIMERS or all(r.done() for r in runs):
                break
            await asyncio.sleep(0.05)
        assert waiting == CLAIMERS, [s.ms for s in stats]
        await gate.rollback()
        claims = [c for batch in await asyncio.gather(*runs) for c in batch]

        assert len(claims) == LIMIT
        assert sum(s.claimed for s in stats) == LIMIT
        assert sum(s.given_back for s in stats) == LIMIT * (CLAIMERS - 1)
        async with sessions() as s:
            live = await s.scalar(
                select(func.count())
                .select_from(CallAttempt)
                .where(CallAttempt.status == AttemptStatus.CLAIMED)
            )
            kept = set(await s.scalars(select(CallAttempt.id)))
            soon = await s.scalar(
                select(func.count())
                .select_from(Debtor)
                .where(Debtor.next_attempt_at == T0 + dt.timedelta(seconds=30))
            )
        assert live == LIMIT
        assert kept == {c.attempt_id for c in claims}
        # Everyone examined but the claimed few (those over the limit at the
        # first count, and the claims given back) is looked at again soon.
        assert soon == CLAIMERS * 10 - LIMIT
    finally:
        await holder.close()
        await watcher.close()
        await engine.dispose()


async def test_callbacks_of_people_held_elsewhere_wait(pg_url: str) -> None:
    """A due callback whose person another transaction holds is left to it (and
    its person not taken from the queue either); a person with two due
    callbacks gets one call, for the earlier."""
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    holder = await asyncpg.connect(pg_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        async with sessions() as s, s.begin():
            camp = await make_campaign(s, every_day(), max_concurrent_calls=100)
            held = await make_debtor(s, camp, phones=("+5511900000001",))
            twice = await make_debtor(s, camp, phones=("+5511900000002",))
            other = await make_debtor(s, camp, phones=("+5511900000003",))
            for who, minutes in ((held, 5), (twice, 10), (twice, 3)):
                s.add(Callback(debtor_id=who.id, due_at=T0 - dt.timedelta(minutes=minutes)))
            ids = (held.id, twice.id, other.id)
        async with sessions() as s:
            first = await s.scalar(
                select(Callback.id).where(Callback.debtor_id == ids[1]).order_by(Callback.due_at)
            )
        gate = holder.transaction()
        await gate.start()
        await holder.execute("SELECT 1 FROM debtors WHERE id = $1 FOR UPDATE", ids[0])
        claims = await claim_batch(sessions, T0, 10, "w1")
        await gate.rollback()
        by_debtor = {c.debtor_id: c for c in claims}
        assert set(by_debtor) == {ids[1], ids[2]}
        assert by_debtor[ids[1]].callback_id == first
        assert by_debtor[ids[2]].callback_id is None
        async with sessions() as s:
            pending = await s.scalar(
                select(func.count())
                .select_from(Callback)
                .where(Callback.debtor_id == ids[0], Callback.status == CallbackStatus.PENDING)
            )
        assert pending == 1
    finally:
        await holder.close()
        await engine.dispose()
