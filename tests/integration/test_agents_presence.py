"""Presence in the store: wrap-up ends by itself, releases and claims are conditional,
and a callback from the queue lands inside the call windows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.agents import presence
from ivr.agents.callbacks import callback_due
from ivr.store.db import make_engine, make_sessionmaker
from ivr.store.models import Agent, CallAttempt, Presence
from scheduler.windows import default_windows, is_callable_at
from scheduler.zones import candidate_zones
from tests.support.agents import seed_agent, seed_call

NOW = dt.datetime(2026, 3, 6, 22, 30, tzinfo=dt.UTC)  # Friday 19:30 in São Paulo


async def _agent(sessions: async_sessionmaker[AsyncSession], agent_id: int) -> Agent:
    async with sessions() as s:
        row = await s.get(Agent, agent_id)
        assert row is not None
        return row


async def test_wrapup_then_available(db_url: str) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        a = await seed_agent(sessions, "ana")
        async with sessions() as s, s.begin():
            assert await presence.claim(s, a.id, NOW)
            assert not await presence.claim(s, a.id, NOW)  # busy now
            await presence.start_wrapup(s, a.id, 30, NOW)
        row = await _agent(sessions, a.id)
        assert row.presence is Presence.BUSY
        assert row.wrapup_until == NOW + dt.timedelta(seconds=30)
        async with sessions() as s, s.begin():
            assert await presence.finish_wrapups(s, NOW + dt.timedelta(seconds=29)) == []
        async with sessions() as s, s.begin():
            assert await presence.finish_wrapups(s, NOW + dt.timedelta(seconds=31)) == [a.id]
        row = await _agent(sessions, a.id)
        assert row.presence is Presence.AVAILABLE and row.wrapup_until is None
        assert row.presence_since == NOW + dt.timedelta(seconds=31)  # idle clock restarts
    finally:
        await engine.dispose()


async def test_release_only_undoes_a_call_claim(db_url: str) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        a = await seed_agent(sessions, "ana", presence=Presence.AWAY)
        async with sessions() as s, s.begin():
            assert not await presence.claim(s, a.id)  # away agents are never claimed
            assert not await presence.release(s, a.id)  # and never made available by a call
        assert (await _agent(sessions, a.id)).presence is Presence.AWAY
        async with sessions() as s, s.begin():
            row = await s.get(Agent, a.id)
            assert row is not None
            await presence.set_manual(s, row, Presence.AVAILABLE, NOW)
        async with sessions() as s, s.begin():
            assert await presence.claim(s, a.id)
            assert await presence.release(s, a.id)
        assert (await _agent(sessions, a.id)).presence is Presence.AVAILABLE
    finally:
        await engine.dispose()


async def test_queue_callback_is_inside_the_windows(db_url: str) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        call = await seed_call(sessions, ref="W-1", phone="+5511987650010")
        async with sessions() as s:
            attempt = await s.get(CallAttempt, call.attempt_id)
            assert attempt is not None
            # Friday 19:30 local: +1 h is 20:30, after the 20:00 close -> Saturday 08:00.
            due, zone = await callback_due(s, attempt, NOW)
            assert zone == "America/Sao_Paulo"
            local = due.astimezone(dt.timezone(dt.timedelta(hours=-3)))
            assert (local.weekday(), local.hour, local.minute) == (5, 8, 0)
            zones = candidate_zones("America/Sao_Paulo", [], "BR")
            assert is_callable_at(due, zones, default_windows("BR"), "BR", None)
            # Mid-morning: simply an hour later.
            morning = dt.datetime(2026, 3, 5, 13, 0, tzinfo=dt.UTC)  # Thursday 10:00 local
            due2, _ = await callback_due(s, attempt, morning)
            assert due2 == morning + dt.timedelta(hours=1)
    finally:
        await engine.dispose()
