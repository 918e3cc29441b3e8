"""Replies rendered ahead of the answer (ivr.calls.speculation), with the real
synthesizer (pyttsx3 + espeak-ng in its workers), the service's dialog,
prompts and grammars, a fake carrier line and a scripted recognizer.

Each test counts the synthesizer's misses when the reply's first frame goes
out: a reply rendered ahead is served from the cache, so the turn itself
synthesized nothing before speaking.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.calls.speculation import answer_kinds, reply_text
from ivr.dialog import events as ev
from ivr.dialog.flow import Flow
from ivr.telephony import media_codec as mc
from ivr.voice.interfaces import AsrEvent
from ivr.voice.tts import Pyttsx3Synthesizer
from tests.support.calls import Call, FakeLine, ScriptedRecognizer, voice_stack

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
async def synth(tmp_path: Path):
    async with Pyttsx3Synthesizer(tmp_path / "tts") as s:
        yield s


async def question_asked(call: Call, grammar: str) -> None:
    """Until the question listening with ``grammar`` has been asked and the
    replies rendered ahead for it are done."""
    listener = call.session.listener
    await call.until(lambda: listener.listen is not None and listener.listen.grammar == grammar)
    await call.listening()
    assert call.session.warmer is not None
    await call.session.warmer.settled()


def misses_at_first_frame(line: FakeLine, synth: Pyttsx3Synthesizer) -> list[int]:
    """The synthesizer's misses when each reply's first frame went out, from now on."""
    seen: list[int] = []
    sent = len(line.sent)

    async def on_media() -> None:
        new = line.sent[sent:]
        if sum(isinstance(m, mc.OutMedia) for m in new) == 1:
            seen.append(synth.misses)

    line.on_media = on_media
    return seen


@SQLITE
async def test_the_reply_to_the_usual_answer_is_rendered_while_the_question_plays(
    sessions, attempt_id: int, synth: Pyttsx3Synthesizer
) -> None:
    voice = voice_stack(Flow.load(), None)
    voice.synthesizer = synth
    line = FakeLine()
    call = Call(sessions, attempt_id, voice, line)
    async with call:
        session = call.session
        assert session.warmer is not None and session.dialog is not None
        expected = reply_text(session.dialog, ev.Speech("sim", 1.0, True))
        assert expected is not None and "Maria" in expected  # her name: not in any cache
        await session.warmer.settled()
        before = synth.misses
        seen = misses_at_first_frame(line, synth)
        line.digits("1")  # yes, it is me
        await call.until(lambda: bool(seen))
        assert seen[0] == before, "the reply was synthesized after the answer"
        await call.listening()
    assert session.dialog.state == "ask_payment_date"


@SQLITE
async def test_the_reply_to_what_is_being_said_is_rendered_before_the_answer_ends(
    sessions, attempt_id: int, synth: Pyttsx3Synthesizer
) -> None:
    partial, final = b"\x10" * 160, b"\x20" * 160
    recognizer = ScriptedRecognizer(
        {partial: AsrEvent("amanhã", 0.0, False), final: AsrEvent("amanhã", 0.9, True)}
    )
    voice = voice_stack(Flow.load(), recognizer)
    voice.synthesizer = synth
    line = FakeLine()
    call = Call(sessions, attempt_id, voice, line)
    async with call:
        session = call.session
        assert session.warmer is not None
        line.digits("1")
        await question_asked(call, "ask_payment_date")  # "when can you pay?"
        asked = session.warmer.asked
        line.audio(partial)  # the caller is saying "amanhã"
        await call.until(lambda: session.warmer is not None and session.warmer.asked > asked)
        await session.warmer.settled()
        before = synth.misses
        seen = misses_at_first_frame(line, synth)
        line.audio(final)
        await call.until(lambda: bool(seen))
        assert seen[0] == before, "the read-back of the date was synthesized after the answer"
        await call.listening()
    assert session.dialog is not None and session.dialog.state == "confirm_promise"


def test_answers_are_grouped_by_kind_in_the_order_the_grammar_lists_them() -> None:
    phrases = ("sim", "isso", "não", "atendente", "sim sou eu", "uma pessoa")
    kinds = answer_kinds(phrases, "pt-BR", "confirm_identity")
    assert kinds == (("sim", "sim sou eu"), ("não",), ("atendente", "uma pessoa"))


@SQLITE
async def test_a_reply_that_depends_on_the_answer_is_not_rendered_while_the_question_plays(
    sessions, attempt_id: int, synth: Pyttsx3Synthesizer
) -> None:
    """ "When can you pay?": each date gets its own read-back, so none is guessed."""
    voice = voice_stack(Flow.load(), None)
    voice.synthesizer = synth
    call = Call(sessions, attempt_id, voice, FakeLine())
    async with call:
        session = call.session
        assert session.warmer is not None and session.dialog is not None
        call.line.digits("1")
        dialog = session.dialog
        await question_asked(call, "ask_payment_date")
        said = ("dia primeiro", "dia um", "amanhã")  # the grammar's first date, and another
        texts = {reply_text(dialog, ev.Speech(day, 1.0, True)) for day in said}
        assert None not in texts and len(texts) == 2
        before = synth.misses
        for text in texts:
            assert text is not None
            await synth.render(text, "pt-BR")
        assert synth.misses == before + 2, "a read-back of a date was rendered ahead"
