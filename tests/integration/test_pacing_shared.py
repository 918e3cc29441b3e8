"""The account's pace on the database: several pacers (replicas) share one slot row.

The four-process version (real ``ivr serve`` replicas and the sandbox) is
``tests/e2e/test_pacing_replicas.py``; here the pacers live in one process so
the spacing and the drain can be checked quickly and exactly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from sqlalchemy import Update, select, update

from ivr.store.db import make_engine, make_sessionmaker
from ivr.store.models import AttemptStatus, CallAttempt, PacingSlot
from scheduler.claim import claim_batch
from scheduler.dialer import Dialer
from scheduler.pacing import SharedPacer, TokenBucket, account_pacer
from tests.support.claims import RecordingCarrier, make_campaign, make_debtor
from tests.support.pacing import max_per_second

T0 = dt.datetime(2026, 11, 24, 13, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in São Paulo


async def _take(pacer: SharedPacer) -> float:
    """Take the next slot as a replica would (sleeping until it is due), the
    carrier answering at once."""
    while True:
        take = await pacer.try_take()
        if take.taken:
            assert take.instant is not None
            await pacer.done(take)
            return take.instant
        await asyncio.sleep(take.wait)


@pytest.mark.postgres
async def test_three_replicas_share_one_rate_without_bursts(pg_url: str) -> None:
    engines = [make_engine(pg_url) for _ in range(3)]
    try:
        pacers = [SharedPacer(make_sessionmaker(e), 20.0, "ACtest") for e in engines]
        # Slots taken as fast as three replicas can ask: never more than 20 in
        # any second on the database's clock. (How evenly they are spaced
        # depends on how busy the machine is: a late take may catch up one
        # gap, and on a loaded machine many are late; that is bench material.)
        slots = sorted(await asyncio.gather(*(_take(p) for p in pacers for _ in range(15))))
        assert max_per_second(slots) <= 20
        assert slots[-1] - slots[0] >= 1.0
        async with make_sessionmaker(engines[0])() as s:
            rows = (await s.scalars(select(PacingSlot))).all()
        assert [r.key for r in rows] == ["ACtest"]
    finally:
        for p in pacers:
            await p.close()
        for e in engines:
            await e.dispose()


@pytest.mark.postgres
async def test_a_call_counts_until_a_second_after_the_carrier_answered(pg_url: str) -> None:
    """A request held up on its way (a busy replica or carrier) may be created
    late: its call stays in the window until a second after the answer, so
    late ones cannot pile into the same second as those that follow them."""
    engine = make_engine(pg_url)
    a = b = None
    try:
        sessions = make_sessionmaker(engine)
        a, b = SharedPacer(sessions, 4.0, "AC4"), SharedPacer(sessions, 4.0, "AC4")
        out = []
        while len(out) < 4:  # four requests out, none answered
            take = await a.try_take()
            if take.taken:
                out.append(take)
            else:
                await asyncio.sleep(take.wait)
        await asyncio.sleep(1.1)
        # A second after the takes, the schedule is long due but the window is full.
        blocked = await b.try_take()
        assert not blocked.taken and 0 < blocked.wait <= 0.25
        for take in out:
            await a.done(take)
        answered = time.monotonic()
        # Answered just now: counted for one more second.
        assert not (await b.try_take()).taken
        assert await _take(b) > 0
        assert time.monotonic() - answered >= 0.95
    finally:
        for p in (a, b):
            if p is not None:
                await p.close()
        await engine.dispose()


@pytest.mark.postgres
async def test_a_slot_is_handed_out_only_when_due_with_its_attempt(pg_url: str) -> None:
    """The slot and ``claimed -> unknown`` are one statement: what the database
    grants is sent at once, never a future instant slept towards (a replica
    waking late would then bunch its call into the next one's second)."""
    engine = make_engine(pg_url)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as s, s.begin():
            camp = await make_campaign(s, min_gap_minutes=0)
            for i in range(3):
                await make_debtor(s, camp, phones=(f"+551198765433{i}",))
        claims = await claim_batch(sessions, T0, 10, "w")
        assert len(claims) == 3

        def mark(attempt_id: int) -> Update:
            return (
                update(CallAttempt)
                .where(CallAttempt.id == attempt_id, CallAttempt.status == AttemptStatus.CLAIMED)
                .values(status=AttemptStatus.UNKNOWN, placed_at=T0)
            )

        a, b = SharedPacer(sessions, 2.0, "AC2"), SharedPacer(sessions, 2.0, "AC2")
        first = await a.try_take(mark(claims[0].attempt_id))
        assert first.taken and first.marked
        # The next replica asks at once: nothing is granted, the attempt is left
        # claimed, and it learns how long to sleep (one gap of 0.5 s).
        early = await b.try_take(mark(claims[1].attempt_id))
        assert not early.taken and not early.marked
        assert 0.3 < early.wait <= 0.5
        async with sessions() as s:
            statuses = {
                c.attempt_id: (await s.get(CallAttempt, c.attempt_id)).status  # type: ignore[union-attr]
                for c in claims
            }
        assert statuses[claims[0].attempt_id] is AttemptStatus.UNKNOWN
        assert statuses[claims[1].attempt_id] is AttemptStatus.CLAIMED
        await asyncio.sleep(early.wait)
        due = await b.try_take(mark(claims[1].attempt_id))
        assert due.taken and due.marked
        assert first.instant is not None and due.instant is not None
        assert due.instant - first.instant >= 0.3
        # A claim that changed meanwhile is not marked (the dialer looks again).
        await a.done(first)
        await b.done(due)
        await asyncio.sleep(1.05)
        gone = await a.try_take(mark(claims[0].attempt_id))
        assert gone.taken and not gone.marked
        await a.close()
        await b.close()
    finally:
        await engine.dispose()


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
        pacer = SharedPacer(sessions, 1 / 30, "A")
        d = Dialer(sessions, carrier, clock=lambda: T0, bucket=pacer)
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
        await pacer.close()
    finally:
        await engine.dispose()
