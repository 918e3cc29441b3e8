"""A whole call that ends with a person, through the sandbox carrier.

The service calls the debtor, greets them over a Media Stream; the debtor
presses 0 (an agent, please). The service redirects the call: the agent's
endpoint rings, hears the whisper, is bridged, and the agent's desktop has
the pop. With nobody free the debtor waits in the queue, is offered a
callback after the (shortened) wait, presses 1 and a Callback is recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from ivr.sandbox.app import Sandbox
from ivr.sandbox.callee import CalleeScript, Press, Silence, WaitForPrompt
from ivr.sandbox.config import SandboxConfig
from ivr.store.models import Callback, CallbackStatus, Debtor, Transfer
from tests.e2e.harness import import_rows, place_call
from tests.support.agents import DesktopClient, Running, agent_who_talks, agents_service, seed_agent

NUMBER = "+5511987654321"
ROW = f"E2E-T,Maria Souza,{NUMBER},150.00,2026-11-01,Loja Estrela,pt-BR,SP,America/Sao_Paulo,"


async def _wait_transfer(svc: Running, predicate: Callable[[Transfer], bool]) -> Transfer:
    async with asyncio.timeout(60):
        while True:
            async with svc.sessions() as s:
                row = await s.scalar(select(Transfer).order_by(Transfer.id.desc()))
            if row is not None and predicate(row):
                return row
            await asyncio.sleep(0.1)


async def test_debtor_presses_zero_and_reaches_an_agent(
    db_url: str, tmp_path: Path, tts_cache: Path
) -> None:
    async with (
        Sandbox(SandboxConfig(speed=8.0)) as sb,
        agents_service(db_url, sb, tts_cache) as svc,
    ):
        await import_rows(svc, tmp_path, [ROW])  # type: ignore[arg-type]
        ana = await seed_agent(svc.sessions, "ana")
        sb.add_callee(NUMBER, CalleeScript(steps=[WaitForPrompt(), Press("0")]))
        sb.add_callee(ana.endpoint, agent_who_talks(15, ring_seconds=2))
        async with DesktopClient(svc.url, ana.api_key) as desk:
            sid = await place_call(svc, "E2E-T")
            offer = await desk.wait_for(lambda m: m["type"] == "offer", timeout=90)
            pop = offer["pop"]
            assert pop["debtor"]["name"] == "Maria Souza"
            assert (
                pop["debt"]["amount_cents"] == 15_000 and pop["debt"]["creditor"] == "Loja Estrela"
            )
            assert pop["transfer"]["reason"] == "asked_for_agent"
            # The conversation so far: the greeting the service spoke and the key pressed.
            assert any(line["who"] == "ivr" for line in pop["transcript"])
            await desk.wait_for(lambda m: m["type"] == "connected", timeout=60)
            await desk.wait_for(lambda m: m["type"] == "ended", timeout=90)
        call = await sb.wait_for_call_end(sid, timeout=60)
        legs = sb.calls_to(ana.endpoint)
        assert len(legs) == 1 and legs[0].parent_call_sid == sid
        assert any("Maria Souza" in t for t in legs[0].heard_text)  # whisper before the bridge
        assert any("Um momento" in t for t in call.heard_text)  # the hold line
        row = await _wait_transfer(svc, lambda t: t.status == "completed")
        assert row.agent_id == ana.id and row.answered_at is not None
        async with svc.sessions() as s:
            debtor = await s.scalar(select(Debtor).where(Debtor.external_ref == "E2E-T"))
            assert debtor is not None and debtor.last_agent_id == ana.id


async def test_nobody_free_queue_then_callback_by_keypad(
    db_url: str, tmp_path: Path, tts_cache: Path
) -> None:
    async with (
        Sandbox(SandboxConfig(speed=8.0)) as sb,
        agents_service(db_url, sb, tts_cache, queue_callback_offer_seconds=3) as svc,
    ):
        await import_rows(svc, tmp_path, [ROW])  # type: ignore[arg-type]
        sb.add_callee(
            NUMBER,
            CalleeScript(
                steps=[WaitForPrompt(), Press("0"), Silence(10), Press("1")], patience_s=180
            ),
        )
        sid = await place_call(svc, "E2E-T")
        call = await sb.wait_for_call_end(sid, timeout=120)
        row = await _wait_transfer(svc, lambda t: t.status == "callback")
        assert row.agent_id is None and row.answered_at is None
        assert row.queue_wait_s is not None and row.queue_wait_s > 0
        async with svc.sessions() as s:
            cbs = (await s.scalars(select(Callback))).all()
        assert len(cbs) == 1
        cb = cbs[0]
        assert cb.status is CallbackStatus.PENDING and cb.reason == "agent_queue"
        assert cb.due_at > row.requested_at
        # What the debtor heard: queue position, the offer, the confirmation.
        heard = " ".join(call.heard_text)
        assert "próxima da fila" in heard
        assert "ligue de volta" in heard or "ligar de volta" in heard
        assert "Combinado" in heard
        assert any(r.kind == "wait" for r in call.callbacks)
