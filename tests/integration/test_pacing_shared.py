"""The account's pace on the database: several pacers (replicas) share one slot row.

The four-process version (real ``ivr serve`` replicas and the sandbox) is
``tests/e2e/test_pacing_replicas.py``; here the pacers live in one process so
the spacing and the drain can be checked quickly and exactly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import time

import pytest
from sqlalchemy import select

from ivr.store.db import make_engine, make_sessionmaker
from ivr.store.models import AttemptStatus, CallAttempt, PacingSlot
from scheduler.claim import claim_batch
from scheduler.dialer import Dialer
from scheduler.pacing import SharedPacer, TokenBucket, account_pacer
from tests.support.claims import RecordingCarrier, make_campaign, make_debtor
from tests.support.pacing import max_per_second

T0 = dt.datetime(2026, 11, 24, 13, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in São Paulo


@pytest.mark.postgres
async def test_three_replicas_share_one_rate_without_bursts(pg_url: str) -> None:
    engines = [make_engine(pg_url) for _ in range(3)]
    try:
        pacers = [SharedPacer(make_sessionmaker(e), 20.0, "ACtest") for e in engines]
        # Slots taken as fast as three replicas can ask: evenly spaced on the
        # database's clock, never two closer than 1/rate.
        slots = [
            slot
            for batch in await asyncio.gather(
                *(asyncio.gather(*(p.reserve() for _ in range(10))) for p in pacers)
            )
            for slot, _wait in batch
        ]
        slots.sort()
        gaps = [b - a for a, b in itertools.pairwise(slots)]
        assert min(gaps) >= 0.05 - 1e-6, gaps
        assert max_per_second(slots) <= 21  # 20, or 21 by float rounding at the edge

        # Waiting for them: 30 calls take at least 29 gaps, whoever asks.
        started = time.monotonic()
        await asyncio.gather(*(p.acquire() for p in pacers for _ in range(10)))
        assert time.monotonic() - started >= 29 * 0.05 * 0.95
        async with make_sessionmaker(engines[0])() as s:
            rows = (await s.scalars(select(PacingSlot))).all()
        assert [r.key for r in rows] == ["ACtest"]
    finally:
        for e in engines:
            await e.dispose()


async def test_sqlite_paces_in_process_without_a_burst(sessions, db_url: str) -> None:
    pacer = account_pacer(sessions, db_url, 4.0, "ACx")
    if db_url.startswith("postgresql"):
        assert isinstance(pacer, SharedPacer)
        return
    assert isinstance(pacer, TokenBucket) and pacer.capacity == 1.0
    started = time.monotonic()
    for _ in range(3):
        await pacer.acquire()
    assert time.monotonic() - started >= 2 * 0.25 * 0.95


@pytest.mark.postgres
async def test_a_drain_gives_back_the_claim_waiting_for_its_slot(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as s, s.begin():
            camp = await make_campaign(s, min_gap_minutes=0)
            for i in range(2):
                await make_debtor(s, camp, phones=(f"+551198765432{i}",))
        claims = await claim_batch(sessions, T0, 10, "w")
        assert len(claims) == 2
        carrier = RecordingCarrier()
        # One call every 30 s: the second claim waits for its slot.
        d = Dialer(sessions, carrier, clock=lambda: T0, bucket=SharedPacer(sessions, 1 / 30, "A"))
        first = await d.dial(claims[0])
        assert first.result == "placed"
        second = asyncio.create_task(d.dial(claims[1]))
        await asyncio.sleep(0.3)
        assert not second.done()
        d.closing.set()
        out = await asyncio.wait_for(second, 5)
        assert out.result == "released"
        assert len(carrier.calls) == 1
        async with sessions() as s:
            a = await s.get(CallAttempt, claims[1].attempt_id)
            assert a is not None and a.status is AttemptStatus.CLAIMED
    finally:
        await engine.dispose()
