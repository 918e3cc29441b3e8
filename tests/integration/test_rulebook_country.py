"""A campaign's own windows bind only its country's debtors and never pass the law;
callbacks (asked by the debtor, or from the agents' queue) obey the same rule book.

Real SQLite and PostgreSQL; the claim, the explain and the queue-callback
scheduler are the product's own functions.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.agents.callbacks import callback_due
from ivr.store import queries
from ivr.store.models import AttemptStatus, CallAttempt, Callback, CallbackStatus
from scheduler.claim import claim_batch
from scheduler.explain import explain
from tests.support.claims import every_day, make_campaign, make_debtor

NY = ZoneInfo("America/New_York")
SP = ZoneInfo("America/Sao_Paulo")
US_NUMBER = "+12125550123"
# Tuesday 2026-11-24 05:51 UTC: 00:51 in New York, 02:51 in São Paulo.
NY_0051 = dt.datetime(2026, 11, 24, 5, 51, tzinfo=dt.UTC)
TUESDAY_10H_SP = dt.datetime(2026, 11, 24, 13, 0, tzinfo=dt.UTC)
MONDAY_2130_SP = dt.datetime(2026, 11, 24, 0, 30, tzinfo=dt.UTC)
SUNDAY_11H_SP = dt.datetime(2026, 11, 22, 14, 0, tzinfo=dt.UTC)


async def loose_br_campaign(s: AsyncSession, **kw: object):  # type: ignore[no-untyped-def]
    """A Brazilian campaign saved with windows round the clock, every day."""
    return await make_campaign(s, windows=every_day(), country="BR", **kw)


async def us_debtor(s: AsyncSession, campaign, ref: str):  # type: ignore[no-untyped-def]
    return await make_debtor(
        s, campaign, phones=[US_NUMBER], country="US", region="NY", timezone=None, ref=ref
    )


async def test_br_campaign_windows_do_not_apply_to_a_us_debtor(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        camp = await loose_br_campaign(s)
        debtor = await us_debtor(s, camp, "US-1")
    async with sessions() as s:
        why = await explain(s, debtor.id, NY_0051)
    assert not why.callable and "outside_window" in why.codes
    assert why.zones == ("America/New_York",)
    assert await claim_batch(sessions, NY_0051, 10, "w") == []
    # 10:00 in New York is inside the US hours: callable.
    ten_ny = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)
    claims = await claim_batch(sessions, ten_ny, 10, "w")
    assert [c.debtor_id for c in claims] == [debtor.id]


async def test_legal_limits_cap_a_campaign_window(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        camp = await loose_br_campaign(s, min_gap_minutes=0, daily_cap=9)
        br = await make_debtor(s, camp, ref="BR-1")
        us_camp = await make_campaign(
            s, windows=every_day(dt.time(6), dt.time(23)), country="US", locale="en-US"
        )
        us = await us_debtor(s, us_camp, "US-2")
    async with sessions() as s:
        # Sunday, and Monday after 20:00, are closed in Brazil whatever the campaign says.
        for at in (SUNDAY_11H_SP, MONDAY_2130_SP):
            assert "outside_window" in (await explain(s, br.id, at)).codes, at
        # 07:30 in New York is before 08:00 (Reg F), whatever the campaign says.
        seven_thirty_ny = dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC)
        assert "outside_window" in (await explain(s, us.id, seven_thirty_ny)).codes
        assert (await explain(s, br.id, TUESDAY_10H_SP)).callable
    for at in (SUNDAY_11H_SP, MONDAY_2130_SP):
        claims = await claim_batch(sessions, at, 10, "w")
        assert br.id not in [c.debtor_id for c in claims]


async def _attempt(s: AsyncSession, debtor, status: AttemptStatus, at: dt.datetime) -> CallAttempt:  # type: ignore[no-untyped-def]
    a = CallAttempt(
        debtor_id=debtor.id,
        debt_id=debtor.debts[0].id,
        phone_id=debtor.phones[0].id,
        campaign_id=debtor.debts[0].campaign_id,
        to_number=debtor.phones[0].e164,
        status=status,
        local_day=at.date(),
        claimed_at=at,
        ended_at=None if status is AttemptStatus.IN_PROGRESS else at + dt.timedelta(minutes=1),
    )
    s.add(a)
    await s.flush()
    return a


async def _pending(sessions: async_sessionmaker[AsyncSession], debtor_id: int) -> list[Callback]:
    async with sessions() as s:
        return list(
            (
                await s.scalars(
                    select(Callback).where(
                        Callback.debtor_id == debtor_id,
                        Callback.status == CallbackStatus.PENDING,
                    )
                )
            ).all()
        )


async def test_debtor_requested_callback_outside_the_window_is_deferred(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    saturday_noon = dt.datetime(2026, 11, 21, 15, 0, tzinfo=dt.UTC)
    async with sessions() as s, s.begin():
        camp = await loose_br_campaign(s)
        debtor = await make_debtor(s, camp, ref="CB-1")
        call = await _attempt(s, debtor, AttemptStatus.IN_PROGRESS, saturday_noon)
        # "Call me tomorrow at eleven": a Sunday.
        await queries.record_callback(s, call, SUNDAY_11H_SP)
        call.status = AttemptStatus.COMPLETED
        call.outcome = "callback"
    assert await claim_batch(sessions, SUNDAY_11H_SP, 10, "w") == []
    [cb] = await _pending(sessions, debtor.id)
    local = cb.due_at.astimezone(SP)
    assert (local.weekday(), local.hour) == (0, 8), local  # Monday 08:00


async def test_queue_callback_obeys_the_debtor_country_and_the_caps(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        camp = await loose_br_campaign(s, daily_cap=2, min_gap_minutes=0)
        debtor = await us_debtor(s, camp, "Q-1")
        before = NY_0051 - dt.timedelta(hours=1)  # 23:51 in New York
        call = await _attempt(s, debtor, AttemptStatus.IN_PROGRESS, before)
    async with sessions() as s:
        attempt = await s.get(CallAttempt, call.id)
        assert attempt is not None
        due, zone = await callback_due(s, attempt, before)
    assert zone == "America/New_York"
    local = due.astimezone(NY)
    assert 8 <= local.hour < 21, local  # never the 00:51 the Brazilian windows allow

    # A queue callback stored for 00:51 New York (as an older build did) is not dialled.
    async with sessions() as s, s.begin():
        row = await s.get(CallAttempt, call.id)
        assert row is not None
        row.status = AttemptStatus.COMPLETED
        s.add(
            Callback(debtor_id=debtor.id, debt_id=row.debt_id, due_at=NY_0051, reason="agent_queue")
        )
    assert await claim_batch(sessions, NY_0051, 10, "w") == []
    [cb] = await _pending(sessions, debtor.id)
    assert cb.due_at.astimezone(NY).hour == 8

    # Over the daily cap at 09:00: deferred to the next local day, not dialled.
    nine = dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.UTC)
    async with sessions() as s, s.begin():
        fresh = await s.get(type(debtor), debtor.id)
        assert fresh is not None
        await _attempt(s, fresh, AttemptStatus.NO_ANSWER, nine - dt.timedelta(minutes=40))
        await _attempt(s, fresh, AttemptStatus.NO_ANSWER, nine - dt.timedelta(minutes=20))
    assert await claim_batch(sessions, nine, 10, "w") == []
    [cb] = await _pending(sessions, debtor.id)
    assert cb.due_at.astimezone(NY).date() == dt.date(2026, 11, 25)
