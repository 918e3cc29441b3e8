"""One whole call through the sandbox carrier, on SQLite and on PostgreSQL.

Import a debtor, ``ivr call`` them, the service answers with a Media Stream
and speaks; the callee presses a key and the service hangs up. The attempt
must end with the carrier's status, answered-by, duration and events, and the
sandbox's recording must hold the prompt audio.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ivr.audio import mulaw
from ivr.sandbox.app import Sandbox
from ivr.sandbox.callee import CalleeScript, Press, WaitForPrompt
from ivr.sandbox.config import SandboxConfig
from ivr.store.models import CallAttempt, CallEvent, Phone
from tests.e2e.harness import import_rows, place_call, running_service

NUMBER = "+5511987654321"


async def test_wrong_person_call_end_to_end(db_url: str, tmp_path: Path, tts_cache: Path) -> None:
    async with (
        Sandbox(SandboxConfig(speed=8.0)) as sb,
        running_service(db_url, sb, tts_cache) as svc,
    ):
        await import_rows(
            svc, tmp_path, [f"E2E-1,Maria Souza,{NUMBER},150.00,2026-11-01,Loja Estrela,pt-BR,SP,,"]
        )
        sb.add_callee(
            NUMBER, CalleeScript(steps=[WaitForPrompt(), Press("2"), WaitForPrompt(), Press("2")])
        )
        sid = await place_call(svc, "E2E-1")
        call = await sb.wait_for_call_end(sid, timeout=90)

        # What the callee heard: real synthesized speech, then the apology.
        assert call.status == "completed"
        assert len(call.heard) > 8000  # more than a second of audio
        assert mulaw.rms_dbfs(bytes(call.heard)) > -40
        # "2" (not me), then "2" again to "Este número é de Maria?": a wrong number.
        assert call.digits_sent == ["2", "2"]
        assert call.marks_echoed, "the service marks the end of each prompt"

        async with svc.sessions() as s:
            attempt = await s.scalar(select(CallAttempt).where(CallAttempt.call_sid == sid))
            assert attempt is not None
            assert attempt.status.value == "completed"
            assert attempt.answered_by == "human"
            assert attempt.duration_s is not None and attempt.duration_s >= 1
            assert attempt.outcome == "wrong_party"
            kinds = [
                e.kind
                for e in (
                    await s.scalars(
                        select(CallEvent)
                        .where(CallEvent.attempt_id == attempt.id)
                        .order_by(CallEvent.id)
                    )
                ).all()
            ]
            assert kinds.count("status") == 4  # initiated, ringing, in-progress, completed
            assert {"amd", "stream_start", "prompt", "dtmf", "end"} <= set(kinds)
            prompts = (
                await s.scalars(
                    select(CallEvent).where(
                        CallEvent.attempt_id == attempt.id, CallEvent.kind == "prompt"
                    )
                )
            ).all()
            spoken = " ".join(p.data["text"] for p in prompts)
            # Nothing about a debt to someone who is not the debtor.
            assert "150" not in spoken and "Loja Estrela" not in spoken
            phone = await s.scalar(select(Phone).where(Phone.e164 == NUMBER))
            assert phone.wrong_number_at is not None


async def test_callbacks_shuffled_and_duplicated(
    db_url: str, tmp_path: Path, tts_cache: Path
) -> None:
    """Twilio does not promise order and may repeat: the attempt still ends right."""
    from ivr.sandbox.callee import CallbackFaults

    async with (
        Sandbox(SandboxConfig(speed=8.0)) as sb,
        running_service(db_url, sb, tts_cache) as svc,
    ):
        await import_rows(
            svc, tmp_path, [f"E2E-2,Ana Lima,{NUMBER},80.00,2026-11-01,Loja,pt-BR,SP,,"]
        )
        sb.add_callee(
            NUMBER,
            CalleeScript(
                steps=[WaitForPrompt(), Press("2"), WaitForPrompt(), Press("2")],
                callbacks=CallbackFaults(order="reverse", duplicate=True),
            ),
        )
        sid = await place_call(svc, "E2E-2")
        call = await sb.wait_for_call_end(sid, timeout=90)
        sent = [cb.params["CallStatus"] for cb in call.status_callbacks]
        assert sent[0] == "completed" and len(sent) == 8, sent  # reversed, each twice
        async with svc.sessions() as s:
            attempt = await s.scalar(select(CallAttempt).where(CallAttempt.call_sid == sid))
            assert attempt.status.value == "completed"
            assert attempt.duration_s == call.duration
            assert attempt.last_sequence == 3
            statuses = (
                await s.scalars(
                    select(CallEvent).where(
                        CallEvent.attempt_id == attempt.id, CallEvent.kind == "status"
                    )
                )
            ).all()
            assert sorted(e.data["sequence"] for e in statuses) == [0, 1, 2, 3]
