"""Several replicas, one database: the pop crosses replicas, an agent is claimed once.

Replica A takes the call (and the carrier's callbacks); the agent's desktop is
connected to replica B. The screen pop must reach B through PostgreSQL
LISTEN/NOTIFY. Claims race on the database, not in process memory.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.agents import presence
from ivr.agents.keys import AGENT_HUB
from ivr.sandbox.app import Sandbox
from ivr.sandbox.config import SandboxConfig
from ivr.store.db import make_engine, make_sessionmaker
from ivr.store.models import Agent, Presence, Transfer
from tests.support.agents import (
    DesktopClient,
    agent_who_talks,
    agents_service,
    attach_call,
    live_sandbox_call,
    seed_agent,
    seed_call,
)

DEBTOR = "+5511987650002"


@pytest.mark.postgres
async def test_pop_reaches_a_desktop_connected_to_another_replica(
    pg_url: str, tmp_path: Path
) -> None:
    async with (
        Sandbox(SandboxConfig(speed=10.0)) as sb,
        agents_service(pg_url, sb, tmp_path / "tts") as replica_a,
        agents_service(pg_url, sb, tmp_path / "tts", route_carrier=False) as replica_b,
    ):
        # The carrier talks to A only (route_carrier=False keeps B out of it).
        sb.config.rewrite_base["https://ivr.test"] = replica_a.url
        ana = await seed_agent(replica_a.sessions, "ana", presence=Presence.OFFLINE)
        sb.add_callee(ana.endpoint, agent_who_talks(12))
        call = await seed_call(replica_a.sessions, ref="R-1", phone=DEBTOR, name="João Lima")
        sid = await live_sandbox_call(sb, DEBTOR)
        await attach_call(replica_a.sessions, call.attempt_id, sid)

        async with DesktopClient(replica_b.url, ana.api_key) as desk:
            assert replica_b.app[AGENT_HUB].subscribers(ana.id) == 1
            assert replica_a.app[AGENT_HUB].subscribers(ana.id) == 0
            status, body = await desk.request(
                "PUT", "/api/v1/agents/me/presence", {"presence": "available"}
            )
            assert status == 200 and body["presence"] == "available"

            assert await replica_a.transfers.request(
                attempt_id=call.attempt_id, call_sid=sid, reason="dispute", locale="pt-BR"
            )
            offer = await desk.wait_for(lambda m: m["type"] == "offer")
            assert offer["pop"]["debtor"]["name"] == "João Lima"
            assert offer["pop"]["transfer"]["reason"] == "dispute"
            assert any(
                line["text"] == "quero falar com uma pessoa" for line in offer["pop"]["transcript"]
            )
            # The whisper and dial-status land on A; B's screen hears about both.
            await desk.wait_for(lambda m: m["type"] == "connected")
            ended = await desk.wait_for(lambda m: m["type"] == "ended", timeout=30)
            # The wrap-up goes through B and is visible from A.
            status, body = await desk.request(
                "POST",
                f"/api/v1/agents/me/transfers/{ended['transfer_id']}/wrapup",
                {"outcome": "dispute", "notes": "Contesta o valor."},
            )
            assert status == 200, body
        async with replica_a.sessions() as s:
            row = await s.get(Transfer, ended["transfer_id"])
            assert row is not None and row.outcome == "dispute" and row.status == "completed"
        assert [c.to for c in sb.calls.values() if c.direction == "outbound-dial"] == [ana.endpoint]


async def test_two_concurrent_claims_one_wins(db_url: str) -> None:
    """The first claim holds its transaction open; the second must wait and then lose."""
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        agent = await seed_agent(sessions, "eva")
        first_claimed = asyncio.Event()
        release_first = asyncio.Event()

        async def first() -> bool:
            async with sessions() as s, s.begin():
                won = await presence.claim(s, agent.id)
                first_claimed.set()
                await release_first.wait()
                return won

        async def second() -> bool:
            await first_claimed.wait()
            async with sessions() as s, s.begin():
                return await presence.claim(s, agent.id)

        t1 = asyncio.create_task(first())
        t2 = asyncio.create_task(second())
        await first_claimed.wait()
        await asyncio.sleep(0.2)  # let the second claim reach the database and block
        assert not t2.done(), "the second claim must wait for the first transaction"
        release_first.set()
        results = await asyncio.gather(t1, t2)
        assert sorted(results) == [False, True]
        async with sessions() as s:
            row = await s.get(Agent, agent.id)
            assert row is not None and row.presence is Presence.BUSY
    finally:
        await engine.dispose()


async def test_many_claims_on_few_agents_never_double_book(db_url: str) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        agents = [await seed_agent(sessions, f"ag{i}") for i in range(3)]

        async def grab() -> int | None:
            async with sessions() as s, s.begin():
                snaps = await presence.available_agents(s)
                for snap in sorted(snaps, key=lambda a: a.id):
                    if await presence.claim(s, snap.id):
                        return snap.id
                return None

        results = await asyncio.gather(*(grab() for _ in range(10)))
        won = [r for r in results if r is not None]
        assert sorted(won) == sorted(a.id for a in agents)  # each agent exactly once
        assert results.count(None) == 7
        async with sessions() as s:
            busy = (await s.scalars(select(Agent.id).where(Agent.presence == Presence.BUSY))).all()
            assert sorted(busy) == sorted(a.id for a in agents)
    finally:
        await engine.dispose()
