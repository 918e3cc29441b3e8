"""Real audio end to end: synthesized speech -> 20 ms mu-law frames -> recognizer.

Uses the Korean test locale (grammars/ko-KR), the only language with both a
Vosk model and a synthesis voice on this machine. Synthetic Korean from
espeak-ng is not always understood by the model, so the assertions are on
rates over a set of words, not on every word.
"""

from __future__ import annotations

from pathlib import Path

from ivr.audio import mulaw
from ivr.voice.asr import VoskRecognizer
from ivr.voice.asr_model import AsrModel, bundled_test_model_path, load_and_check
from ivr.voice.tts import Pyttsx3Synthesizer
from tests.support.voice import ko_grammars

SILENCE = bytes([mulaw.SILENCE_BYTE])

# (listening context, word): words that the synthetic voice says clearly enough.
CHOSEN = [
    ("yes_no", "네"),
    ("yes_no", "예"),
    ("yes_no", "아니요"),
    ("confirm_identity", "맞아"),
    ("ask_payment_date", "월요일"),
    ("ask_payment_date", "내일"),
    ("ask_payment_date", "모레"),
    ("ask_callback_time", "오전"),
    ("ask_callback_time", "오후"),
    ("ask_callback_time", "저녁"),
]


async def recognize(
    model: AsrModel, synth: Pyttsx3Synthesizer, grammar: list[str], word: str
) -> str:
    """Say `word` down the line and return the first final result ("" if none)."""
    audio = SILENCE * 4000 + await synth.render(word, "ko-KR") + SILENCE * 8000
    rec = VoskRecognizer(model, grammar)
    finals = []
    for frame in mulaw.frames(audio):
        assert len(frame) == mulaw.FRAME_BYTES
        event = await rec.accept(frame)
        if event is not None and event.final:
            finals.append(event.text)
    last = await rec.finish()
    if last is not None:
        finals.append(last.text)
    return finals[0] if finals else ""


async def test_start_up_check_accepts_the_test_locale():
    path = bundled_test_model_path()
    assert path is not None
    checked = await load_and_check(path, ko_grammars())
    assert checked.supports_grammar
    checked.close()


async def test_chosen_words_round_trip(model: AsrModel, tmp_path: Path):
    grammars = ko_grammars()
    async with Pyttsx3Synthesizer(tmp_path) as synth:
        results = [(w, await recognize(model, synth, grammars[g], w)) for g, w in CHOSEN]
    right = [w for w, heard in results if heard == w]
    print(f"\nchosen words recognized: {len(right)}/{len(results)}: {results}")
    # Every answer must come from the grammar of its context, right or wrong.
    for (context, _), (_, heard) in zip(CHOSEN, results, strict=True):
        assert all(word in grammars[context] for word in heard.split())
    assert len(right) >= 0.75 * len(results)


async def test_rate_over_every_grammar_word(model: AsrModel, tmp_path: Path):
    """Reports the rate over all test-locale words; asserts only a floor."""
    grammars = ko_grammars()
    tried = right = 0
    async with Pyttsx3Synthesizer(tmp_path) as synth:
        for phrases in grammars.values():
            for word in phrases:
                tried += 1
                right += await recognize(model, synth, phrases, word) == word
    print(f"\nall test-locale words recognized in their own grammar: {right}/{tried}")
    assert right >= 0.4 * tried
