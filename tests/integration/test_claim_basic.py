"""Claiming on both backends: caps, gaps, callbacks, channel limit, the live-attempt guard."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ivr.store.models import (
    AttemptStatus,
    CallAttempt,
    Callback,
    CallbackStatus,
    CallWindow,
    Debtor,
)
from scheduler.claim import ClaimStats, claim_batch
from tests.support.claims import every_day, make_campaign, make_debtor

T0 = dt.datetime(2026, 11, 24, 13, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in São Paulo


async def finish_all(sessions, at: dt.datetime, outcome: str = "no_contact") -> None:
    async with sessions() as s, s.begin():
        await s.execute(
            update(CallAttempt)
            .where(CallAttempt.status == AttemptStatus.CLAIMED)
            .values(status=AttemptStatus.COMPLETED, ended_at=at, outcome=outcome)
        )


async def test_claim_respects_gap_daily_and_in_progress(sessions) -> None:
    async with sessions() as s, s.begin():
        camp = await make_campaign(s, daily_cap=2, min_gap_minutes=60)
        d = await make_debtor(s, camp)
        debtor_id = d.id
    claims = await claim_batch(sessions, T0, 10, "w1")
    assert [c.debtor_id for c in claims] == [debtor_id]
    c = claims[0]
    assert c.local_day == dt.date(2026, 11, 24)
    assert c.to_number == "+5511987654321"
    assert c.zones == ("America/Sao_Paulo",)
    # In progress: nothing more.
    assert await claim_batch(sessions, T0 + dt.timedelta(minutes=1), 10, "w1") == []
    await finish_all(sessions, T0 + dt.timedelta(minutes=5))
    # Within the gap: no. The hint says when to look again.
    assert await claim_batch(sessions, T0 + dt.timedelta(minutes=30), 10, "w1") == []
    async with sessions() as s:
        hint = await s.scalar(select(Debtor.next_attempt_at).where(Debtor.id == debtor_id))
    assert hint is not None and hint >= T0 + dt.timedelta(minutes=60)
    # After the gap: the second attempt of the day.
    assert len(await claim_batch(sessions, T0 + dt.timedelta(minutes=61), 10, "w1")) == 1
    await finish_all(sessions, T0 + dt.timedelta(minutes=62))
    # Daily cap reached: not again today, yes tomorrow at 08:00 local.
    assert await claim_batch(sessions, T0 + dt.timedelta(hours=6), 10, "w1") == []
    tomorrow_8 = dt.datetime(2026, 11, 25, 11, 0, tzinfo=dt.UTC)
    assert await claim_batch(sessions, tomorrow_8 - dt.timedelta(minutes=1), 10, "w1") == []
    assert len(await claim_batch(sessions, tomorrow_8, 10, "w1")) == 1
    async with sessions() as s:
        days = (await s.scalars(select(CallAttempt.local_day).order_by(CallAttempt.id))).all()
    assert days == [dt.date(2026, 11, 24)] * 2 + [dt.date(2026, 11, 25)]


async def test_live_attempt_guard_is_in_the_database(sessions) -> None:
    async with sessions() as s, s.begin():
        camp = await make_campaign(s)
        d = await make_debtor(s, camp)
        debtor_id = d.id
    assert len(await claim_batch(sessions, T0, 10, "w1")) == 1
    with pytest.raises(IntegrityError):
        async with sessions() as s, s.begin():
            s.add(
                CallAttempt(
                    debtor_id=debtor_id,
                    to_number="+5511987654321",
                    status=AttemptStatus.QUEUED,
                    local_day=T0.date(),
                    claimed_at=T0,
                )
            )
    # A final attempt beside the live one is fine.
    async with sessions() as s, s.begin():
        s.add(
            CallAttempt(
                debtor_id=debtor_id,
                to_number="+5511987654321",
                status=AttemptStatus.COMPLETED,
                local_day=T0.date(),
                claimed_at=T0,
            )
        )


async def test_campaign_channel_limit(sessions) -> None:
    async with sessions() as s, s.begin():
        camp = await make_campaign(s, max_concurrent_calls=3)
        for _ in range(7):
            await make_debtor(s, camp)
    first = await claim_batch(sessions, T0, 100, "w1")
    assert len(first) == 3
    assert await claim_batch(sessions, T0 + dt.timedelta(seconds=1), 100, "w2") == []
    await finish_all(sessions, T0 + dt.timedelta(minutes=1))
    second = await claim_batch(sessions, T0 + dt.timedelta(minutes=2), 100, "w2")
    assert len(second) == 3
    assert not {c.debtor_id for c in first} & {c.debtor_id for c in second}


async def test_callback_due_is_claimed_and_marked_done(sessions) -> None:
    async with sessions() as s, s.begin():
        camp = await make_campaign(s, quiet_days_after_rpc=3, min_gap_minutes=0)
        d = await make_debtor(s, camp)
        debtor_id = d.id
        # A conversation an hour ago, in which the debtor asked to be called back.
        s.add(
            CallAttempt(
                debtor_id=debtor_id,
                to_number="+5511987654321",
                status=AttemptStatus.COMPLETED,
                outcome="callback",
                local_day=T0.date(),
                claimed_at=T0 - dt.timedelta(hours=1),
                ended_at=T0 - dt.timedelta(minutes=55),
            )
        )
        s.add(Callback(debtor_id=debtor_id, due_at=T0 + dt.timedelta(minutes=30)))
    # Before the callback is due: the quiet days and the scheduled callback both block.
    assert await claim_batch(sessions, T0, 10, "w1") == []
    claims = await claim_batch(sessions, T0 + dt.timedelta(minutes=30), 10, "w1")
    assert len(claims) == 1 and claims[0].callback_id is not None
    async with sessions() as s:
        status = await s.scalar(select(Callback.status))
    assert status is CallbackStatus.DONE


async def test_callback_outside_window_moves_to_next_opening(sessions) -> None:
    async with sessions() as s, s.begin():
        camp = await make_campaign(s)  # default Brazilian windows
        d = await make_debtor(s, camp)
        # Due Saturday 2026-11-28 at 15:00 local: after the Saturday window.
        due = dt.datetime(2026, 11, 28, 18, 0, tzinfo=dt.UTC)
        s.add(Callback(debtor_id=d.id, due_at=due))
    stats = ClaimStats()
    assert await claim_batch(sessions, due, 10, "w1", stats=stats) == []
    assert stats.callbacks_moved == 1
    async with sessions() as s:
        cb = (await s.scalars(select(Callback))).one()
    assert cb.status is CallbackStatus.PENDING
    assert cb.due_at == dt.datetime(2026, 11, 30, 11, 0, tzinfo=dt.UTC)  # Monday 08:00 local
    claims = await claim_batch(sessions, cb.due_at, 10, "w1")
    assert [c.callback_id for c in claims] == [cb.id]


async def test_windows_of_the_campaign_are_used(sessions) -> None:
    async with sessions() as s, s.begin():
        camp = await make_campaign(
            s, windows=[CallWindow(weekday=1, start=dt.time(14), end=dt.time(15))]
        )
        await make_debtor(s, camp)
    assert await claim_batch(sessions, T0, 10, "w1") == []  # 10:00 local
    at_14 = dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC)
    assert len(await claim_batch(sessions, at_14, 10, "w1")) == 1


async def test_queue_hint_skips_debtors_until_due(sessions) -> None:
    async with sessions() as s, s.begin():
        camp = await make_campaign(s, windows=every_day(dt.time(9), dt.time(10)))
        await make_debtor(s, camp)
    stats = ClaimStats()
    assert await claim_batch(sessions, T0 + dt.timedelta(hours=1), 10, "w1", stats=stats) == []
    assert stats.examined == 1
    # Not examined again before its window opens the next day.
    stats = ClaimStats()
    await claim_batch(sessions, T0 + dt.timedelta(hours=3), 10, "w1", stats=stats)
    assert stats.examined == 0
    async with sessions() as s:
        n = await s.scalar(select(func.count()).select_from(CallAttempt))
    assert n == 0


async def test_batch_in_parts_claims_each_person_once(sessions) -> None:
    """On PostgreSQL the parts are transactions running at once (SQLite: one)."""
    async with sessions() as s, s.begin():
        camp = await make_campaign(s, max_concurrent_calls=100)
        for i in range(25):
            await make_debtor(s, camp, phones=(f"+55119{i:08d}",))
    stats = ClaimStats()
    claims = await claim_batch(sessions, T0, 24, "w1", stats=stats, parts=3)
    assert len(claims) == 24 == len({c.debtor_id for c in claims})
    assert stats.claimed == stats.examined == 24
    async with sessions() as s:
        ids = set(await s.scalars(select(CallAttempt.id)))
    assert ids == {c.attempt_id for c in claims}
    last = await claim_batch(sessions, T0, 24, "w1", parts=3)
    assert len(last) == 1
