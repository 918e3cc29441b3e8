"""The caller's last words: heard out at the hang-up, for the record only.

When the caller hangs up, the audio still queued for the recognizer and the
utterance it was in the middle of are heard to the end (within a short
limit) and kept in the call's transcript as the caller's words, marked as
said at the hang-up; the dialog never sees them. The session is the
service's own, with a fake carrier line and a scripted recognizer
(:mod:`tests.support.calls`); the store is a real migrated SQLite database.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from ivr.agents.screen import transcript_line
from ivr.calls.listener import LAST_WORDS_LIMIT_S, CallListener
from ivr.calls.transport import MediaTransport
from ivr.dialog import events as ev
from ivr.dialog.flow import Flow
from ivr.store.models import CallEvent, utcnow
from ivr.voice.interfaces import AsrEvent
from tests.support.calls import (
    Call,
    FakeLine,
    FakeTransfers,
    ScriptedRecognizer,
    prompts_of,
    voice_stack,
)

# One SQLite store is enough for the calls here: the queries have their own tests.
on_sqlite = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def flow() -> Flow:
    """The shipped flow: its listening windows never expire in these tests."""
    return Flow.load()


class StuckRecognizer(ScriptedRecognizer):
    """Never finishes the utterance in progress (a recognizer stuck in its thread)."""

    async def finish(self) -> AsrEvent | None:
        self.finished += 1
        await asyncio.sleep(30)
        return AsrEvent("tarde demais", 0.9, True)


def listener_for(recognizer: ScriptedRecognizer) -> tuple[CallListener, asyncio.Queue]:
    events: asyncio.Queue[ev.Event | None] = asyncio.Queue()
    listener = CallListener(
        MediaTransport(FakeLine()),  # type: ignore[arg-type]
        events,
        grammar=lambda _context: None,
        understood=str.upper,
    )
    listener.start(recognizer)
    listener.listen = ev.Listen("confirm_identity")
    return listener, events


# ---------------------------------------------------------------- the listener


async def test_audio_still_queued_at_the_hang_up_reaches_the_recognizer() -> None:
    """Two chunks wait in the queue when the caller hangs up: the recognizer
    hears both (coalesced) before it is asked for the utterance's end, and
    what it says goes to the record, not to the dialog."""
    first, second = b"\x10" * 160, b"\x20" * 160
    recognizer = ScriptedRecognizer({}, last=AsrEvent("nao posso pagar", 0.8, True))
    listener, events = listener_for(recognizer)
    listener.audio(first)
    listener.audio(second)
    listener.caller_hung_up()  # before the recognizing task has taken anything
    heard = await listener.last_words()
    await listener.close()
    assert b"".join(recognizer.fed) == first + second
    assert recognizer.finished == 1
    assert heard == AsrEvent("NAO POSSO PAGAR", 0.8, True)  # the dialog's words for it
    assert events.empty(), "the dialog hears nothing after the hang-up"


async def test_a_result_reached_while_hearing_out_is_kept_with_the_last_words() -> None:
    answer = b"\x30" * 160
    recognizer = ScriptedRecognizer(
        {answer: AsrEvent("sim", 0.9, True)}, last=AsrEvent("quero", 0.5, True)
    )
    listener, events = listener_for(recognizer)
    listener.audio(answer)
    listener.caller_hung_up()
    heard = await listener.last_words()
    await listener.close()
    assert heard is not None and heard.text == "SIM QUERO"
    assert heard.confidence == pytest.approx(0.7)
    assert events.empty()


async def test_hearing_out_is_bounded() -> None:
    recognizer = StuckRecognizer({})
    listener, _ = listener_for(recognizer)
    listener.caller_hung_up()
    began = time.monotonic()
    assert await listener.last_words() is None
    assert time.monotonic() - began < LAST_WORDS_LIMIT_S + 0.5
    await listener.close()
    assert recognizer.finished == 1 and recognizer.closed


async def test_nothing_is_heard_out_when_nothing_was_awaited_or_said() -> None:
    recognizer = ScriptedRecognizer({}, last=AsrEvent("sim", 0.9, True))
    listener, _ = listener_for(recognizer)
    listener.listen = None  # e.g. the listening window ran out and no question followed
    listener.caller_hung_up()
    assert await listener.last_words() is None
    await listener.close()
    assert recognizer.finished == 0


# ---------------------------------------------------------------- the call


@on_sqlite
async def test_an_answer_cut_by_the_hang_up_is_in_the_transcript_and_not_acted_on(
    sessions, attempt_id: int, flow: Flow
) -> None:
    begun = b"\x10" * 160
    recognizer = ScriptedRecognizer(
        {begun: AsrEvent("si", 0.0, False)}, last=AsrEvent("sim", 0.9, True)
    )
    line = FakeLine()
    call = Call(sessions, attempt_id, voice_stack(flow, recognizer), line)
    async with call:
        line.audio(begun)  # the caller starts to say "sim"...
        line.hang_up()  # ...and hangs up before the recognizer hears its end
        await call.ended()
    events = await call.events()
    speech = [e.data for e in events if e.kind == "speech"]
    assert speech == [{"text": "sim", "confidence": 0.9, "after_hangup": True, "state": "greet"}], (
        speech
    )
    kinds = [e.kind for e in events]
    assert kinds.index("speech") < kinds.index("hangup")
    # "sim" to the greeting would confirm the person and go on: nothing of that.
    assert prompts_of(events) == ["greet"]
    assert (await call.attempt()).outcome == "no_contact"
    assert recognizer.closed


@on_sqlite
async def test_a_hang_up_with_nothing_said_adds_no_words(
    sessions, attempt_id: int, flow: Flow
) -> None:
    recognizer = ScriptedRecognizer({})
    line = FakeLine()
    call = Call(sessions, attempt_id, voice_stack(flow, recognizer), line)
    async with call:
        pass  # the caller hangs up while the greeting waits for an answer
    assert recognizer.finished == 1, "the recognizer was asked for an utterance in progress"
    events = await call.events()
    assert not [e for e in events if e.kind == "speech"]
    assert "hangup" in [e.kind for e in events]


@on_sqlite
async def test_the_end_of_a_handed_over_call_is_not_a_hang_up(
    sessions, attempt_id: int, flow: Flow
) -> None:
    """The agents' redirect also ends the stream with ``stop``: what the
    recognizer holds then is not words said as the caller hung up."""
    recognizer = ScriptedRecognizer({}, last=AsrEvent("sim", 0.9, True))
    line = FakeLine()
    call = Call(sessions, attempt_id, voice_stack(flow, recognizer), line, FakeTransfers(True))
    async with call:
        line.digits("0")  # an agent, please
        await call.until_logged("transfer")
    assert recognizer.finished == 0
    assert not [e for e in await call.events() if e.kind == "speech"]


# ---------------------------------------------------------------- the transcript


def test_the_agents_transcript_marks_words_said_at_the_hang_up() -> None:
    at = utcnow()
    said = CallEvent(kind="speech", at=at, data={"text": "sim", "intent": "yes"})
    last = CallEvent(kind="speech", at=at, data={"text": "não posso", "after_hangup": True})
    assert "after_hangup" not in (transcript_line(said) or {})
    assert transcript_line(last) == {
        "at": at.isoformat(),
        "who": "debtor",
        "text": "não posso",
        "after_hangup": True,
    }
