"""The recognizer's gate: a quiet line between utterances never reaches Vosk.

Decoding silence costs Vosk as much as decoding speech and a caller is quiet
most of a call, so at 40 calls on two cores the silence alone took a core.
These tests check that quiet frames are kept out (counted by the recognizer's
own Vosk calls), and that what is said is recognized exactly as without the
gate: the pre-roll gives the decoder the onset of the word.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.audio import mulaw
from ivr.dialog.grammars import load_grammar
from ivr.voice.asr import PREROLL_FRAMES, VoskRecognizer
from ivr.voice.asr_model import AsrModel
from ivr.voice.interfaces import AsrEvent
from ivr.voice.tts import Pyttsx3Synthesizer

SILENCE = bytes([mulaw.SILENCE_BYTE])


class CountingRecognizer(VoskRecognizer):
    """Counts the audio that reaches the Vosk side (the thread pool)."""

    fed_bytes = 0
    vosk_calls = 0

    def _accept_sync(self, chunk: bytes) -> AsrEvent | None:
        self.vosk_calls += 1
        self.fed_bytes += len(chunk)
        return super()._accept_sync(chunk)


@pytest.fixture
async def words(tmp_path: Path) -> dict[str, bytes]:
    async with Pyttsx3Synthesizer(tmp_path / "tts") as synth:
        return {w: await synth.render(w, "ko-KR") for w in ("네", "내일")}


async def finals(rec: VoskRecognizer, audio: bytes) -> list[str]:
    said = []
    for frame in mulaw.frames(audio):
        event = await rec.accept(frame)
        if event is not None and event.final:
            said.append(event.text)
    return said


def grammar() -> list[str]:
    return load_grammar("ko-KR", "ask_payment_date")


async def test_a_quiet_line_never_reaches_vosk(model: AsrModel) -> None:
    rec = CountingRecognizer(model, grammar())
    assert await finals(rec, SILENCE * 8000 * 5) == []
    assert rec.vosk_calls == 0


async def test_without_the_gate_every_frame_reaches_vosk(model: AsrModel) -> None:
    rec = CountingRecognizer(model, grammar(), gate_dbfs=None)
    await finals(rec, SILENCE * 8000)
    assert rec.vosk_calls == 50


async def test_speech_after_quiet_is_heard_with_its_pre_roll(
    model: AsrModel, words: dict[str, bytes]
) -> None:
    audio = SILENCE * 8000 * 3 + words["내일"] + SILENCE * 8000 * 2
    gated = CountingRecognizer(model, grammar())
    ungated = CountingRecognizer(model, grammar(), gate_dbfs=None)
    assert await finals(gated, audio) == await finals(ungated, audio) == ["내일"]
    # Vosk heard the word and a little quiet around it, not the 5 s of silence.
    assert gated.fed_bytes < len(words["내일"]) + 8000
    assert gated.fed_bytes >= PREROLL_FRAMES * mulaw.FRAME_BYTES


async def test_the_gate_opens_again_for_the_next_answer(
    model: AsrModel, words: dict[str, bytes]
) -> None:
    rec = CountingRecognizer(model, grammar())
    pause = SILENCE * 8000 * 2
    said = await finals(rec, pause + words["내일"] + pause + words["내일"] + pause)
    assert said == ["내일", "내일"]
    calls_after_two_answers = rec.vosk_calls
    assert await finals(rec, pause) == []
    assert rec.vosk_calls == calls_after_two_answers


async def test_a_chunk_that_turns_loud_midway_is_fed_from_the_pre_roll(
    model: AsrModel, words: dict[str, bytes]
) -> None:
    """A coalesced chunk (the recognizer fell behind) of quiet then speech."""
    rec = CountingRecognizer(model, grammar())
    await finals(rec, SILENCE * 8000)
    loud = words["내일"]
    event = await rec.accept(SILENCE * 1600 + loud[:3200])
    assert rec.vosk_calls == 1
    assert rec.fed_bytes <= PREROLL_FRAMES * mulaw.FRAME_BYTES + 1600 + 3200
    rest = [] if event is None or not event.final else [event.text]
    assert rest + await finals(rec, loud[3200:] + SILENCE * 8000 * 2) == ["내일"]


async def test_reset_shuts_the_gate(model: AsrModel, words: dict[str, bytes]) -> None:
    rec = CountingRecognizer(model, grammar())
    await rec.accept(words["내일"][:3200])
    rec.reset()
    calls = rec.vosk_calls
    await finals(rec, SILENCE * 8000)
    assert rec.vosk_calls == calls
