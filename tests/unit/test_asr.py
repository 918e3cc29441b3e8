"""VoskRecognizer tests against the real Vosk library and the Korean test model."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from ivr.audio import mulaw
from ivr.voice.asr import SILENCE_DBFS, VoskRecognizer
from ivr.voice.asr_model import (
    AsrModel,
    bundled_test_model_path,
    load_and_check,
    read_sample_rate,
    validate_model_dir,
)
from ivr.voice.errors import AsrError
from ivr.voice.interfaces import AsrEvent
from ivr.voice.tts import Pyttsx3Synthesizer
from tests.support.voice import ko_grammars

SILENCE = bytes([mulaw.SILENCE_BYTE])


@pytest.fixture
async def synth(tmp_path: Path):
    async with Pyttsx3Synthesizer(tmp_path / "tts") as s:
        yield s


async def spoken(synth: Pyttsx3Synthesizer, word: str) -> bytes:
    """The word as a caller would send it: some silence, the word, some silence."""
    return SILENCE * 4000 + await synth.render(word, "ko-KR") + SILENCE * 8000


async def feed(rec: VoskRecognizer, audio: bytes) -> list[AsrEvent]:
    events = []
    for frame in mulaw.frames(audio):
        event = await rec.accept(frame)
        if event is not None:
            events.append(event)
    last = await rec.finish()
    if last is not None:
        events.append(last)
    return events


# ------------------------------------------------------------- model loading


def test_bundled_model_loads_with_its_properties(model: AsrModel):
    assert model.path == bundled_test_model_path()
    assert model.sample_rate == 16000
    assert model.supports_grammar is True
    assert model.has_unk is False
    assert model.has_word("네") and not model.has_word("없는단어xyz")


async def test_async_load_runs_and_reports_missing_directory(tmp_path: Path):
    missing = tmp_path / "nowhere"
    with pytest.raises(AsrError, match=f"IVR_VOSK_MODEL: no such directory: {missing}"):
        await AsrModel.load(missing)


def test_directory_that_is_not_a_model_is_refused_before_vosk(tmp_path: Path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "README").write_text("not a model")
    with pytest.raises(AsrError, match="is not a Vosk model") as err:
        validate_model_dir(tmp_path)
    assert str(tmp_path) in str(err.value)
    assert "am/" in str(err.value) and "graph/" in str(err.value)
    (tmp_path / "am").mkdir()
    (tmp_path / "graph").mkdir()
    with pytest.raises(AsrError, match=r"am/final\.mdl"):
        AsrModel.load_sync(tmp_path)


def test_a_file_is_not_a_model_directory(tmp_path: Path):
    path = tmp_path / "model.zip"
    path.write_bytes(b"PK")
    with pytest.raises(AsrError, match="no such directory"):
        validate_model_dir(path)


def test_sample_rate_comes_from_mfcc_conf(tmp_path: Path):
    (tmp_path / "conf").mkdir()
    assert read_sample_rate(tmp_path) == 16000
    (tmp_path / "conf" / "mfcc.conf").write_text("--use-energy=false\n--sample-frequency=8000\n")
    assert read_sample_rate(tmp_path) == 8000


# ------------------------------------------------------------- grammars


def test_every_test_locale_word_is_in_the_model(model: AsrModel):
    grammars = ko_grammars()
    assert {"confirm_identity", "ask_payment_date", "confirm_promise", "yes_no"} <= set(grammars)
    for name, phrases in grammars.items():
        assert model.check_grammar(phrases) == [], name


def test_unknown_words_are_named(model: AsrModel):
    assert model.check_grammar(["네", "맞아요", "다음 주", "없는단어xyz 네"]) == [
        "맞아요",
        "없는단어xyz",
    ]
    with pytest.raises(AsrError, match="맞아요"):
        VoskRecognizer(model, ["네", "맞아요"])


async def test_load_and_check_stops_start_up_listing_grammar_and_words(model: AsrModel):
    good = ko_grammars()
    checked = await load_and_check(model.path, good)
    checked.close()
    bad = {**good, "yes_no": ["네", "맞아요"], "extra": ["없는단어xyz"]}
    with pytest.raises(AsrError) as err:
        await load_and_check(model.path, bad)
    assert "yes_no: 맞아요" in str(err.value)
    assert "extra: 없는단어xyz" in str(err.value)


def test_grammar_is_serialized_with_real_characters(model: AsrModel):
    text = model.grammar_json(["아니요", "다음 주", "네"])
    assert "아니요" in text and "\\u" not in text
    assert json.loads(text) == ["아니요", "다음 주", "네"]


def test_unk_is_dropped_when_the_model_lacks_it(model: AsrModel):
    assert json.loads(model.grammar_json(["네", "[unk]", "아니요 [unk]"])) == ["네", "아니요"]
    assert model.check_grammar(["[unk]"]) == []
    with pytest.raises(AsrError, match="at least one phrase"):
        model.grammar_json(["[unk]"])


@pytest.mark.parametrize("bad", [[], ["", "  "], "네", [1, "네"], None])
def test_grammars_that_would_crash_vosk_are_refused(model: AsrModel, bad):
    with pytest.raises(AsrError):
        model.grammar_json(bad)


# ------------------------------------------------------------- recognizer


async def test_silence_gives_no_events(model: AsrModel):
    rec = VoskRecognizer(model, ["네", "아니요"])
    assert await feed(rec, SILENCE * 16000) == []


async def test_partial_then_final_with_confidence(model: AsrModel, synth: Pyttsx3Synthesizer):
    rec = VoskRecognizer(model, ko_grammars()["yes_no"])
    events = await feed(rec, await spoken(synth, "아니요"))
    partials = [e for e in events if not e.final]
    finals = [e for e in events if e.final]
    assert partials, "a partial result is what lets a caller interrupt a prompt"
    assert events.index(partials[0]) < events.index(finals[0])
    assert len(finals) == 1 and finals[0].text == "아니요"
    assert 0.0 < finals[0].confidence <= 1.0
    assert all(e.confidence == 0.0 for e in partials)


async def test_endpoint_is_reported_without_flush(model: AsrModel, synth: Pyttsx3Synthesizer):
    rec = VoskRecognizer(model, ko_grammars()["ask_payment_date"])
    audio = await spoken(synth, "월요일") + SILENCE * 8000
    finals = []
    for frame in mulaw.frames(audio):
        event = await rec.accept(frame)
        if event is not None and event.final:
            finals.append(event)
    assert [e.text for e in finals] == ["월요일"]
    assert await rec.finish() is None


async def test_set_grammar_mid_utterance_is_deferred_not_fatal(
    model: AsrModel, synth: Pyttsx3Synthesizer
):
    grammars = ko_grammars()
    rec = VoskRecognizer(model, grammars["yes_no"])
    audio = await spoken(synth, "아니요")
    half = len(audio) // 2
    for frame in mulaw.frames(audio[:half]):
        await rec.accept(frame)
    await rec.set_grammar(grammars["ask_payment_date"])  # would abort the process if applied now
    assert rec.grammar_pending is True
    events = await feed(rec, audio[half:])
    assert [e.text for e in events if e.final] == ["아니요"]  # the old grammar finished it
    assert rec.grammar_pending is False
    # The next utterance uses the new grammar: 월요일 is not in yes_no.
    events = await feed(rec, await spoken(synth, "월요일"))
    assert [e.text for e in events if e.final] == ["월요일"]


async def test_reset_lets_the_grammar_switch_at_once(model: AsrModel, synth: Pyttsx3Synthesizer):
    grammars = ko_grammars()
    rec = VoskRecognizer(model, grammars["yes_no"])
    audio = await spoken(synth, "아니요")
    for frame in mulaw.frames(audio[: len(audio) // 2]):
        await rec.accept(frame)
    rec.reset()
    await rec.set_grammar(grammars["ask_payment_date"])
    assert rec.grammar_pending is False
    events = await feed(rec, await spoken(synth, "모레"))
    assert [e.text for e in events if e.final] == ["모레"]


async def test_invalid_set_grammar_is_refused_and_keeps_the_old_one(
    model: AsrModel, synth: Pyttsx3Synthesizer
):
    rec = VoskRecognizer(model, ["네", "아니요"])
    with pytest.raises(AsrError):
        await rec.set_grammar([])
    events = await feed(rec, await spoken(synth, "네"))
    assert [e.text for e in events if e.final] == ["네"]


async def test_many_recognizers_share_one_model_concurrently(
    model: AsrModel, synth: Pyttsx3Synthesizer
):
    audio = await spoken(synth, "아니요")
    grammar = ko_grammars()["yes_no"]
    results = await asyncio.gather(*(feed(VoskRecognizer(model, grammar), audio) for _ in range(8)))
    finals = [[e.text for e in events if e.final] for events in results]
    assert finals == [["아니요"]] * 8


async def test_free_form_recognizer_runs(model: AsrModel, synth: Pyttsx3Synthesizer):
    rec = VoskRecognizer(model, None)
    events = await feed(rec, await spoken(synth, "월요일"))
    assert any(e.final and e.text for e in events)


async def test_closed_recognizer_refuses_audio(model: AsrModel):
    rec = VoskRecognizer(model, ["네"])
    rec.close()
    with pytest.raises(AsrError, match="closed"):
        await rec.accept(SILENCE * 160)


async def test_finish_ends_the_utterance_in_progress(model: AsrModel, synth: Pyttsx3Synthesizer):
    """The caller hangs up mid-word: no quiet follows, so no endpoint; finishing
    hears the utterance out and leaves nothing in progress."""
    rec = VoskRecognizer(model, ko_grammars()["confirm_identity"])
    word = list(mulaw.frames(await synth.render("상담원", "ko-KR")))
    while mulaw.rms_dbfs(word[-1]) <= SILENCE_DBFS:
        word.pop()  # the voice's own quiet after the word
    events = [await rec.accept(frame) for frame in mulaw.frames(SILENCE * 1600 + b"".join(word))]
    assert not [e for e in events if e is not None and e.final]
    last = await rec.finish()
    assert last is not None and last.final and last.text == "상담원"
    assert await rec.finish() is None


async def test_finish_with_nothing_said_asks_nothing_of_vosk(model: AsrModel):
    rec = VoskRecognizer(model, ["네"])
    for frame in mulaw.frames(SILENCE * 8000):  # quiet: the gate keeps it from Vosk
        await rec.accept(frame)
    assert await rec.finish() is None
    assert rec._rec is None, "no Vosk recognizer was built to say that nothing was said"
    rec.close()
    with pytest.raises(AsrError, match="closed"):
        await rec.finish()
