"""Transfers against a sandbox call, on SQLite and PostgreSQL.

The service redirects a live sandbox call to the agent (the sandbox records
the Dial, the whisper and the bridge); the agent's desktop receives the pop;
the dial-status callback moves the agent into wrap-up; the wrap-up lands in
the store. Nobody free: the caller waits in the queue and is handed to the
first agent who becomes available.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ivr.sandbox.app import Sandbox
from ivr.sandbox.callee import CalleeScript
from ivr.sandbox.config import SandboxConfig
from ivr.store.models import Agent, Presence, Promise, Transfer
from tests.support.agents import (
    DesktopClient,
    Running,
    SeededAgent,
    SeededCall,
    agent_who_talks,
    agents_service,
    attach_call,
    live_sandbox_call,
    seed_agent,
    seed_call,
)

DEBTOR = "+5511987650001"


async def _transfer(svc: Running, transfer_id: int) -> Transfer:
    async with svc.sessions() as s:
        row = await s.get(Transfer, transfer_id)
        assert row is not None
        return row


async def _first_agent_misses(
    sb: Sandbox, svc: Running, ref: str, *, caio_talks_s: float
) -> tuple[SeededAgent, SeededAgent, SeededCall, str]:
    """Bia (idle longest, so rung first) does not answer; Caio talks ``caio_talks_s``;
    a live debtor call waits for the transfer."""
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    bia = await seed_agent(svc.sessions, "bia", idle_since=old)
    caio = await seed_agent(svc.sessions, "caio")
    sb.add_callee(bia.endpoint, CalleeScript(answer="no-answer"))
    sb.add_callee(caio.endpoint, agent_who_talks(caio_talks_s))
    call = await seed_call(svc.sessions, ref=ref, phone=DEBTOR)
    sid = await live_sandbox_call(sb, DEBTOR)
    await attach_call(svc.sessions, call.attempt_id, sid)
    return bia, caio, call, sid


async def test_transfer_dials_agent_pops_screen_and_records_wrapup(
    db_url: str, tmp_path: Path
) -> None:
    async with (
        Sandbox(SandboxConfig(speed=10.0)) as sb,
        agents_service(db_url, sb, tmp_path / "tts", agent_wrapup_seconds=600) as svc,
    ):
        ana = await seed_agent(svc.sessions, "ana")
        sb.add_callee(ana.endpoint, agent_who_talks(12))
        call = await seed_call(svc.sessions, ref="T-1", phone=DEBTOR)
        sid = await live_sandbox_call(sb, DEBTOR)
        await attach_call(svc.sessions, call.attempt_id, sid)

        async with DesktopClient(svc.url, ana.api_key) as desk:
            ok = await svc.transfers.request(
                attempt_id=call.attempt_id, call_sid=sid, reason="asked_for_agent", locale="pt-BR"
            )
            assert ok is True
            offer = await desk.wait_for(lambda m: m["type"] == "offer")
            pop = offer["pop"]
            assert pop["debtor"]["name"] == "Maria Souza"
            assert pop["debtor"]["phones"] == [DEBTOR]
            assert pop["debt"]["creditor"] == "Loja Estrela"
            assert pop["debt"]["amount_cents"] == 15_000
            assert pop["transfer"]["reason"] == "asked_for_agent"
            said = [line["text"] for line in pop["transcript"]]
            assert "quero falar com uma pessoa" in said and "[keypad 0]" in said

            connected = await desk.wait_for(lambda m: m["type"] == "connected")
            assert connected["transfer_id"] == offer["transfer_id"]
            ended = await desk.wait_for(lambda m: m["type"] == "ended")
            transfer_id = ended["transfer_id"]

            # The carrier saw: the hold line, a Dial to the agent, the whisper, a bridge.
            debtor_call = sb.calls[sid]
            assert any("Um momento" in t for t in debtor_call.heard_text)
            agent_legs = sb.calls_to(ana.endpoint)
            assert len(agent_legs) == 1
            assert any("Maria Souza" in t for t in agent_legs[0].heard_text)  # the whisper

            row = await _transfer(svc, transfer_id)
            assert row.status == "completed"
            assert row.agent_id == ana.id
            assert row.answered_at is not None and row.queue_wait_s is not None
            async with svc.sessions() as s:
                agent = await s.get(Agent, ana.id)
                assert agent is not None
                assert agent.presence is Presence.BUSY and agent.wrapup_until is not None

            status, body = await desk.request(
                "POST",
                f"/api/v1/agents/me/transfers/{transfer_id}/wrapup",
                {
                    "outcome": "promise",
                    "promise_date": (dt.date.today() + dt.timedelta(days=18)).isoformat(),
                    "promise_amount": "150,00",
                    "notes": "Vai pagar no dia 20.",
                },
            )
            assert status == 200, body
        row = await _transfer(svc, transfer_id)
        assert row.outcome == "promise" and row.notes == "Vai pagar no dia 20."
        async with svc.sessions() as s:
            promise = await s.scalar(select(Promise).where(Promise.debt_id == call.debt_id))
            assert promise is not None
            assert promise.source == "agent" and promise.amount_cents == 15_000
            agent = await s.get(Agent, ana.id)
            assert agent is not None and agent.presence is Presence.AVAILABLE  # wrap-up ended
            from ivr.store.models import Debtor

            debtor = await s.get(Debtor, call.debtor_id)
            assert debtor is not None and debtor.last_agent_id == ana.id  # sticky next time


async def test_unanswered_agent_is_released_and_the_next_one_is_dialed(
    db_url: str, tmp_path: Path
) -> None:
    async with (
        Sandbox(SandboxConfig(speed=20.0)) as sb,
        agents_service(db_url, sb, tmp_path / "tts") as svc,
    ):
        bia, caio, call, sid = await _first_agent_misses(sb, svc, "T-2", caio_talks_s=10)
        async with DesktopClient(svc.url, bia.api_key) as bia_desk:
            assert await svc.transfers.request(
                attempt_id=call.attempt_id, call_sid=sid, reason="not_understood", locale="pt-BR"
            )
            await bia_desk.wait_for(lambda m: m["type"] == "offer")
            missed = await bia_desk.wait_for(lambda m: m["type"] == "missed", timeout=30)
        row = await _transfer(svc, missed["transfer_id"])
        for _ in range(200):
            if row.status == "completed":
                break
            await asyncio.sleep(0.05)
            row = await _transfer(svc, missed["transfer_id"])
        assert row.status == "completed"
        assert row.tried_agent_ids == [bia.id, caio.id]
        assert row.agent_id == caio.id
        assert len(sb.calls_to(bia.endpoint)) == 1 and len(sb.calls_to(caio.endpoint)) == 1
        assert any("Maria Souza" in t for t in sb.calls_to(caio.endpoint)[0].heard_text)
        async with svc.sessions() as s:
            b = await s.get(Agent, bia.id)
            assert b is not None and b.presence is Presence.AVAILABLE  # released


async def test_queued_caller_goes_to_the_first_agent_who_becomes_available(
    db_url: str, tmp_path: Path
) -> None:
    async with (
        Sandbox(SandboxConfig(speed=10.0)) as sb,
        agents_service(db_url, sb, tmp_path / "tts") as svc,
    ):
        dora = await seed_agent(svc.sessions, "dora", presence=Presence.AWAY)
        sb.add_callee(dora.endpoint, agent_who_talks(10))
        call = await seed_call(svc.sessions, ref="T-3", phone=DEBTOR)
        sid = await live_sandbox_call(sb, DEBTOR)
        await attach_call(svc.sessions, call.attempt_id, sid)
        assert await svc.transfers.request(
            attempt_id=call.attempt_id, call_sid=sid, reason="cannot_pay", locale="pt-BR"
        )
        async with svc.sessions() as s:
            queued = await s.scalar(select(Transfer).where(Transfer.attempt_id == call.attempt_id))
            assert queued is not None and queued.status == "queued" and queued.agent_id is None
        # The caller is in the carrier's queue, hearing the wait URL.
        for _ in range(200):
            if any(r.kind == "wait" for r in sb.calls[sid].callbacks):
                break
            await asyncio.sleep(0.05)
        assert any(r.kind == "wait" for r in sb.calls[sid].callbacks)

        async with DesktopClient(svc.url, dora.api_key) as desk:
            status, body = await desk.request(
                "PUT", "/api/v1/agents/me/presence", {"presence": "available"}
            )
            assert status == 200, body
            offer = await desk.wait_for(lambda m: m["type"] == "offer")
            assert offer["transfer_id"] == queued.id
            await desk.wait_for(lambda m: m["type"] == "ended", timeout=30)
        row = await _transfer(svc, queued.id)
        assert row.status == "completed" and row.agent_id == dora.id
        assert row.queue_wait_s is not None and row.queue_wait_s > 0
        assert len(sb.calls_to(dora.endpoint)) == 1


async def test_caller_hanging_up_in_the_queue_is_an_abandoned_transfer(
    db_url: str, tmp_path: Path
) -> None:
    async with (
        Sandbox(SandboxConfig(speed=10.0)) as sb,
        agents_service(db_url, sb, tmp_path / "tts") as svc,
    ):
        call = await seed_call(svc.sessions, ref="T-4", phone=DEBTOR)
        sid = await live_sandbox_call(sb, DEBTOR)
        await attach_call(svc.sessions, call.attempt_id, sid)
        assert await svc.transfers.request(
            attempt_id=call.attempt_id, call_sid=sid, reason="dispute", locale="pt-BR"
        )
        for _ in range(200):
            if any(r.kind == "wait" for r in sb.calls[sid].callbacks):
                break
            await asyncio.sleep(0.05)
        # The debtor hangs up; the carrier's final status closes the attempt.
        sb.engine.hangup(sb.engine.live[sid], "callee-hangup")
        await sb.wait_for_call_end(sid)
        async with svc.sessions() as s, s.begin():
            from ivr.store.models import AttemptStatus, CallAttempt

            attempt = await s.get(CallAttempt, call.attempt_id)
            assert attempt is not None
            attempt.status = AttemptStatus.COMPLETED
        await svc.transfers.reconcile()
        async with svc.sessions() as s:
            row = await s.scalar(select(Transfer).where(Transfer.attempt_id == call.attempt_id))
            assert row is not None
            assert row.status == "abandoned" and row.answered_at is None
            assert row.ended_at is not None
        status = await _report(svc)
        assert status["requested"] == 1 and status["abandoned"] == 1
        assert status["abandonment_rate"] == 1.0


async def _report(svc: Running) -> dict[str, Any]:
    from ivr.agents.reports import transfer_stats

    async with svc.sessions() as s:
        return (await transfer_stats(s)).to_dict()


async def test_a_late_dial_result_for_an_earlier_agent_changes_nothing(
    db_url: str, tmp_path: Path
) -> None:
    """The first agent's Dial result, sent again (signed, exactly as it arrived)
    while the second agent talks, is about a Dial that is over: the transfer
    stays with the second agent, who is neither released nor cut off."""
    async with (
        Sandbox(SandboxConfig(speed=20.0)) as sb,
        agents_service(db_url, sb, tmp_path / "tts") as svc,
    ):
        bia, caio, call, sid = await _first_agent_misses(sb, svc, "T-5", caio_talks_s=60)
        async with DesktopClient(svc.url, caio.api_key) as caio_desk:
            assert await svc.transfers.request(
                attempt_id=call.attempt_id, call_sid=sid, reason="not_understood", locale="pt-BR"
            )
            connected = await caio_desk.wait_for(lambda m: m["type"] == "connected", timeout=30)
            transfer_id = connected["transfer_id"]
            first = [
                cb for cb in sb.calls[sid].callbacks_of("action") if "/agents/dial-status" in cb.url
            ]
            assert len(first) == 1 and first[0].params["DialCallStatus"] == "no-answer"
            for status in ("no-answer", "completed"):
                replay = await sb.engine.poster.send(
                    "action", first[0].url, {**first[0].params, "DialCallStatus": status}
                )
                assert replay.status == 200, replay.body
                assert "<Dial" not in replay.body and "<Enqueue" not in replay.body
                assert "<Hangup" not in replay.body
                row = await _transfer(svc, transfer_id)
                assert (row.status, row.agent_id) == ("connected", caio.id)
                assert row.tried_agent_ids == [bia.id, caio.id]
            async with svc.sessions() as s:
                c = await s.get(Agent, caio.id)
                assert c is not None and c.presence is Presence.BUSY  # still talking
            ended = await caio_desk.wait_for(lambda m: m["type"] == "ended", timeout=60)
            assert ended["transfer_id"] == transfer_id
        row = await _transfer(svc, transfer_id)
        assert (row.status, row.agent_id) == ("completed", caio.id)
        assert len(sb.calls_to(caio.endpoint)) == 1
        assert sb.calls[sid].status == "in-progress"  # the debtor's line was never cut
