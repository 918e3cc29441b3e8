"""An inbound caller who asks for a person before saying who they are, on SQLite
and PostgreSQL: the transfer goes to an agent whose screen says "unidentified
caller", their number and that identity is not verified, with no debt; with
nobody free they wait in the queue and, instead of a callback offer (there is
nobody to call back), hear that they may stay or call again; a free agent then
takes them from the queue."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from sqlalchemy import func, select

from ivr.sandbox.app import Sandbox
from ivr.sandbox.config import SandboxConfig
from ivr.store.inbound import open_inbound_attempt
from ivr.store.models import Callback, CallEvent, Presence, Transfer
from tests.support.agents import (
    DesktopClient,
    Running,
    agent_who_talks,
    agents_service,
    live_sandbox_call,
    seed_agent,
)

CALLER = "+5511987650077"


async def _unidentified_call(svc: Running, sid: str) -> int:
    """The caller pressed 0 at the first question: no debtor, nothing verified."""
    async with svc.sessions() as s, s.begin():
        attempt = await open_inbound_attempt(
            s,
            call_sid=sid,
            caller=CALLER,
            debtor=None,
            local_day=dt.date.today(),
        )
        s.add(CallEvent(attempt_id=attempt.id, kind="dtmf", data={"digits": "0"}))
        return attempt.id


async def test_an_agent_is_offered_the_unidentified_caller_without_any_debt(
    db_url: str, tmp_path: Path
) -> None:
    async with (
        Sandbox(SandboxConfig(speed=10.0)) as sb,
        agents_service(db_url, sb, tmp_path / "tts") as svc,
    ):
        ana = await seed_agent(svc.sessions, "ana")
        sb.add_callee(ana.endpoint, agent_who_talks(6))
        sid = await live_sandbox_call(sb, CALLER)
        attempt_id = await _unidentified_call(svc, sid)
        async with DesktopClient(svc.url, ana.api_key) as desk:
            assert await svc.transfers.request(
                attempt_id=attempt_id, call_sid=sid, reason="asked_for_agent", locale="pt-BR"
            )
            pop = (await desk.wait_for(lambda m: m["type"] == "offer"))["pop"]
            assert pop["debtor"] is None and pop["debt"] is None
            caller = pop["caller"]
            assert caller["identified"] is False and caller["verified"] is False
            assert caller["number"] == CALLER
            assert CALLER in caller["notice"] and "NÃO confirmada" in caller["notice"]
            assert pop["transcript"][-1]["text"] == "[keypad 0]"
            await desk.wait_for(lambda m: m["type"] == "connected")
        whisper = sb.calls_to(ana.endpoint)[0].heard_text
        assert any("não identificada" in t and CALLER in t for t in whisper), whisper
        async with svc.sessions() as s:
            row = await s.scalar(select(Transfer).where(Transfer.attempt_id == attempt_id))
            assert row is not None and row.agent_id == ana.id


async def test_queued_unidentified_caller_hears_call_again_not_a_callback_offer(
    db_url: str, tmp_path: Path
) -> None:
    async with (
        Sandbox(SandboxConfig(speed=10.0)) as sb,
        agents_service(db_url, sb, tmp_path / "tts", queue_callback_offer_seconds=2) as svc,
    ):
        dora = await seed_agent(svc.sessions, "dora", presence=Presence.AWAY)
        sb.add_callee(dora.endpoint, agent_who_talks(6))
        sid = await live_sandbox_call(sb, CALLER)
        attempt_id = await _unidentified_call(svc, sid)
        assert await svc.transfers.request(
            attempt_id=attempt_id, call_sid=sid, reason="asked_for_agent", locale="pt-BR"
        )
        async with svc.sessions() as s:
            queued = await s.scalar(select(Transfer).where(Transfer.attempt_id == attempt_id))
            assert queued is not None and queued.status == "queued"

        early = await svc.transfers.on_queue_wait(queued.id, 1, 0)
        assert "próxima da fila" in early
        offer = await svc.transfers.on_queue_wait(queued.id, 1, 3)
        assert "<Gather" not in offer and "ligue de novo mais tarde" in offer
        # A stray answer to an offer never made books nothing.
        assert "<Say" not in await svc.transfers.on_queue_offer(queued.id, "1", None)
        async with svc.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(Callback)) == 0
            row = await s.get(Transfer, queued.id)
            assert row is not None and row.status == "queued"

        async with DesktopClient(svc.url, dora.api_key) as desk:
            status, body = await desk.request(
                "PUT", "/api/v1/agents/me/presence", {"presence": "available"}
            )
            assert status == 200, body
            offered = await desk.wait_for(lambda m: m["type"] == "offer")
            assert offered["transfer_id"] == queued.id
            assert offered["pop"]["caller"]["identified"] is False
        for _ in range(100):
            if sb.calls_to(dora.endpoint):
                break
            await asyncio.sleep(0.05)
        assert len(sb.calls_to(dora.endpoint)) == 1
