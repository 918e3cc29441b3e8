"""The live call's logic with a fake carrier socket and a fake recognizer.

The speech engines are replaced through their interfaces
(:mod:`ivr.voice.interfaces`): the recognizer "hears" scripted results for
given audio chunks and the synthesizer returns silence. The dialog, prompt
catalog, grammars and the store (a real migrated SQLite database) are the
service's own, so each test shows what a caller and the store would see.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSCloseCode, WSMessage, WSMsgType
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.calls.dialer import claim_manual_attempt
from ivr.calls.live import LiveCalls
from ivr.calls.session import APOLOGY_PROMPT, CallSession
from ivr.calls.voice import LOCALES, VoiceStack, grammar_root, prompt_root
from ivr.dialog.flow import DEFAULT_FLOW, Flow, parse_yaml
from ivr.dialog.grammars import all_contexts, load_grammar
from ivr.dialog.prompts import validate_catalogs
from ivr.store.importer import import_debtors
from ivr.store.models import CallAttempt, CallEvent, Debtor, OptOut, Promise, utcnow
from ivr.telephony import media_codec as mc
from ivr.telephony.stream_token import TOKEN_PARAMETER, StreamTokens
from ivr.voice.interfaces import AsrEvent
from scheduler.manual import next_legal_instant

# One SQLite store per test is enough here: the queries have their own tests on both backends.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

PROMPT_SECONDS = 0.2
MULAW_SILENCE = b"\xff"
SHORT_WAIT_S = 0.3  # every listening timeout of the test flow
CSV = (
    "external_ref,name,phone,amount,due_date,creditor,locale,region,timezone,birth_year\n"
    "S-1,Maria Souza,+5511987654321,10.00,2026-11-01,Loja,pt-BR,SP,,\n"
)


# ---------------------------------------------------------------- fakes


class SilentSynthesizer:
    """Every prompt is the same short silence: the session logic, not the voice, is tested."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def render(self, text: str, locale: str) -> bytes:
        self.texts.append(text)
        return MULAW_SILENCE * int(8000 * PROMPT_SECONDS)

    async def prerender(self, texts: Iterable[str], locale: str) -> int:
        return 0

    async def close(self) -> None:
        return None


class ScriptedRecognizer:
    """Hears, for a given chunk of audio, the result the test scripted for it."""

    def __init__(self, script: dict[bytes, AsrEvent]) -> None:
        self.script = script
        self.grammars: list[list[str]] = []
        self.closed = False

    async def accept(self, ulaw_chunk: bytes) -> AsrEvent | None:
        return self.script.get(bytes(ulaw_chunk))

    async def set_grammar(self, phrases: Sequence[str]) -> None:
        self.grammars.append(list(phrases))

    def reset(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True


class FakeTransfers:
    """The agents' side of a transfer: records the request, answers as told."""

    def __init__(self, handed_over: bool) -> None:
        self.handed_over = handed_over
        self.requests: list[dict[str, Any]] = []

    async def request(self, *, attempt_id: int, call_sid: str, reason: str, locale: str) -> bool:
        self.requests.append(
            {"attempt_id": attempt_id, "call_sid": call_sid, "reason": reason, "locale": locale}
        )
        return self.handed_over


class FakeLine:
    """The carrier's end of a Media Streams socket, as the session's transport uses it.

    Outbound messages are parsed as Twilio would; a mark comes back once the
    audio before it "has played": at once when ``plays_instantly``, else when
    the test calls :meth:`play_all` (a ``clear`` returns pending marks at once,
    as Twilio does).
    """

    def __init__(self, *, plays_instantly: bool = True) -> None:
        self.plays_instantly = plays_instantly
        self.inbox: asyncio.Queue[WSMessage] = asyncio.Queue()
        self.sent: list[mc.OutboundMessage] = []
        self.pending_marks: list[str] = []
        self.closed = False
        self.close_code: int | None = None
        self.on_media: Callable[[], Awaitable[None]] | None = None
        self.stream_sid = mc.new_stream_sid()
        self.call_sid = mc.new_call_sid()
        self._seq = 0

    # -------------------------------------------- the WebSocketResponse surface

    async def receive(self, timeout: float | None = None) -> WSMessage:  # noqa: ASYNC109
        return await asyncio.wait_for(self.inbox.get(), timeout)

    async def send_str(self, text: str) -> None:
        msg = mc.parse_outbound(text, expected_stream_sid=self.stream_sid)
        self.sent.append(msg)
        if isinstance(msg, mc.OutMedia) and self.on_media is not None:
            await self.on_media()
        elif isinstance(msg, mc.OutMark):
            self.pending_marks.append(msg.name)
            if self.plays_instantly:
                self.play_all()
        elif isinstance(msg, mc.OutClear):
            self.play_all()

    async def close(self, code: int = WSCloseCode.OK, message: bytes = b"") -> bool:
        if not self.closed:
            self.closed, self.close_code = True, code
            self.inbox.put_nowait(WSMessage(WSMsgType.CLOSED, None, None))
        return True

    def exception(self) -> BaseException | None:
        return None

    # -------------------------------------------- what the carrier sends

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def send(self, msg: mc.InboundMessage) -> None:
        self.inbox.put_nowait(WSMessage(WSMsgType.TEXT, mc.encode_inbound(msg), None))

    def send_raw(self, kind: WSMsgType, data: Any) -> None:
        self.inbox.put_nowait(WSMessage(kind, data, None))

    def start(self, attempt_id: int, tokens: StreamTokens) -> None:
        self.send(mc.Connected())
        params = {
            "attempt_id": str(attempt_id),
            TOKEN_PARAMETER: tokens.mint(attempt_id, self.call_sid),
        }
        self.send(
            mc.Start(
                stream_sid=self.stream_sid,
                sequence_number=self._next(),
                account_sid="AC" + "1" * 32,
                call_sid=self.call_sid,
                custom_parameters=params,
            )
        )

    def digits(self, keys: str) -> None:
        for key in keys:
            self.send(mc.Dtmf(stream_sid=self.stream_sid, sequence_number=self._next(), digit=key))

    def audio(self, payload: bytes) -> None:
        seq = self._next()
        self.send(
            mc.Media(
                stream_sid=self.stream_sid,
                sequence_number=seq,
                chunk=seq,
                timestamp=seq * 20,
                payload=payload,
            )
        )

    def play_all(self) -> None:
        for name in self.pending_marks:
            self.send(mc.Mark(stream_sid=self.stream_sid, sequence_number=self._next(), name=name))
        self.pending_marks.clear()

    def hang_up(self) -> None:
        self.send(
            mc.Stop(
                stream_sid=self.stream_sid,
                sequence_number=self._next(),
                account_sid="AC" + "1" * 32,
                call_sid=self.call_sid,
            )
        )

    # -------------------------------------------- what the carrier received

    def marks(self) -> list[str]:
        return [m.name for m in self.sent if isinstance(m, mc.OutMark)]

    def clears(self) -> int:
        return sum(isinstance(m, mc.OutClear) for m in self.sent)


# ---------------------------------------------------------------- set-up


@pytest.fixture(scope="module")
def quick_flow() -> Flow:
    """The shipped flow, with listening windows short enough for a unit test."""
    text = DEFAULT_FLOW.read_text(encoding="utf-8")
    for seconds in (6, 8, 10):
        text = text.replace(f"timeout_s: {seconds},", f"timeout_s: {SHORT_WAIT_S},")
    return Flow.from_mapping(parse_yaml(text))


@pytest.fixture(scope="module")
def flow() -> Flow:
    """The shipped flow: its listening windows (6 s and more) never expire in these tests."""
    return Flow.load()


def voice_stack(flow: Flow, recognizer: ScriptedRecognizer | None) -> VoiceStack:
    grammars = {
        "pt-BR": {c: load_grammar("pt-BR", c, grammar_root()) for c in all_contexts("pt-BR")}
    }
    return VoiceStack(
        synthesizer=SilentSynthesizer(),
        flow=flow,
        catalogs=validate_catalogs(flow, prompt_root(), LOCALES),
        recognizers=None if recognizer is None else (lambda _opening: recognizer),
        grammars=grammars,
    )


async def claimed_attempt(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> int:
    path = tmp_path / "portfolio.csv"
    path.write_text(CSV, encoding="utf-8")
    report = await import_debtors(sessions, path)
    assert report.errors == []
    at = await next_legal_instant(sessions, "S-1", utcnow())
    assert at is not None
    attempt_id, _ = await claim_manual_attempt(sessions, "S-1", now=at)
    return attempt_id


class Call:
    """A session running against a fake line, and what the store holds for it."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        attempt_id: int,
        voice: VoiceStack,
        line: FakeLine,
        transfers: FakeTransfers | None = None,
    ) -> None:
        self.sessions, self.attempt_id, self.line = sessions, attempt_id, line
        self.tokens = StreamTokens("test-secret", "auth-token")
        self.live = LiveCalls()
        self.session = CallSession(
            line,  # type: ignore[arg-type]
            sessions,
            voice,
            transfers=transfers,
            live=self.live,
            tokens=self.tokens,
            start_timeout_s=5,
        )
        self.task: asyncio.Task[None] | None = None

    def begin(self) -> None:
        """The carrier opens the stream and sends ``start``."""
        self.task = asyncio.create_task(self.session.run())
        self.line.start(self.attempt_id, self.tokens)

    async def __aenter__(self) -> Call:
        if self.task is None:
            self.begin()
        await self.listening()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        if not self.task.done():
            self.line.hang_up()
        await asyncio.wait_for(self.task, 10)

    async def until(self, condition: Callable[[], bool], within_s: float = 5.0) -> None:
        async with asyncio.timeout(within_s):
            while not condition():  # noqa: ASYNC110 - polling what the session exposes
                await asyncio.sleep(0.01)

    async def listening(self) -> None:
        """Until the dialog waits for an answer and everything it said has played."""
        s = self.session
        await self.until(
            lambda: s.listener.listen is not None and s.transport.idle and s.events.empty()
        )

    async def until_logged(self, kind: str, within_s: float = 5.0) -> None:
        async with asyncio.timeout(within_s):
            while not any(e.kind == kind for e in await self.events()):  # noqa: ASYNC110
                await asyncio.sleep(0.02)

    async def ended(self) -> None:
        assert self.task is not None
        await asyncio.wait_for(self.task, 10)

    async def events(self) -> list[CallEvent]:
        async with self.sessions() as s:
            rows = await s.scalars(
                select(CallEvent)
                .where(CallEvent.attempt_id == self.attempt_id)
                .order_by(CallEvent.id)
            )
            return list(rows)

    async def attempt(self) -> CallAttempt:
        async with self.sessions() as s:
            row = await s.get(CallAttempt, self.attempt_id)
            assert row is not None
            return row


@pytest.fixture
async def attempt_id(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> int:
    return await claimed_attempt(sessions, tmp_path)


def prompts_of(events: list[CallEvent]) -> list[str]:
    return [e.data["prompt_id"] for e in events if e.kind == "prompt"]


# ---------------------------------------------------------------- tests


async def test_silence_reasks_in_other_words_only_once_the_prompt_has_played(
    sessions, attempt_id: int, quick_flow: Flow
) -> None:
    line = FakeLine(plays_instantly=False)
    voice = voice_stack(quick_flow, None)
    call = Call(sessions, attempt_id, voice, line)
    call.begin()
    await call.until(lambda: len(line.pending_marks) == 1)
    # The greeting is still playing: however long the caller is quiet, no re-ask.
    await asyncio.sleep(SHORT_WAIT_S * 3)
    assert len(line.marks()) == 1
    line.play_all()
    await call.until(lambda: len(line.marks()) == 2)
    line.play_all()
    await call.listening()
    async with call:
        pass
    events = await call.events()
    assert prompts_of(events)[:2] == ["greet", "greet"]
    greet, again = [e.data["text"] for e in events if e.kind == "prompt"][:2]
    assert greet != again, "a re-ask uses different words"
    kinds = [e.kind for e in events]
    assert kinds.index("silence") < [i for i, k in enumerate(kinds) if k == "prompt"][1]


async def test_speech_barges_into_a_prompt_that_allows_it_and_keys_do_not_cut_one_that_does_not(
    sessions, attempt_id: int, flow: Flow
) -> None:
    partial, answer = b"\x10" * 160, b"\x20" * 160
    recognizer = ScriptedRecognizer(
        {partial: AsrEvent("si", 0.0, False), answer: AsrEvent("sim", 0.9, True)}
    )
    line = FakeLine(plays_instantly=False)
    call = Call(sessions, attempt_id, voice_stack(flow, recognizer), line)
    call.begin()
    await call.until(lambda: len(line.pending_marks) == 1)  # the greeting is playing
    line.audio(partial)
    await call.until(lambda: line.clears() == 1)
    assert len(line.marks()) == 1 and not line.pending_marks, "clear returned the mark"
    line.audio(answer)
    # Right party: the recording notice (which may not be interrupted) plays next.
    await call.until(lambda: len(line.pending_marks) >= 1)
    line.digits("5")
    await asyncio.sleep(0.2)
    assert line.clears() == 1, "a key must not cut the notice"
    line.plays_instantly = True
    line.play_all()
    await call.listening()
    ask_date = load_grammar("pt-BR", "ask_payment_date", grammar_root())
    assert recognizer.grammars[-1] == ask_date, "the next question's grammar is listened for"
    async with call:
        pass
    events = await call.events()
    speech = [e.data for e in events if e.kind == "speech"]
    assert speech and speech[0]["intent"] == "yes"
    assert prompts_of(events)[:2] == ["greet", "notice_first"]
    assert recognizer.closed


@pytest.mark.parametrize("handed_over", [False, True])
async def test_transfer_falls_back_to_a_goodbye_when_no_agent_takes_the_call(
    sessions, attempt_id: int, flow: Flow, handed_over: bool
) -> None:
    line = FakeLine()
    transfers = FakeTransfers(handed_over)
    call = Call(sessions, attempt_id, voice_stack(flow, None), line, transfers)
    async with call:
        line.digits("0")  # "0": an agent, please
        if handed_over:
            await call.until_logged("transfer")
            assert not line.closed, "the agents have the call now"
        else:
            await call.ended()
            assert line.closed
    assert transfers.requests == [
        {
            "attempt_id": attempt_id,
            "call_sid": line.call_sid,
            "reason": "asked_for_agent",
            "locale": "pt-BR",
        }
    ]
    events = await call.events()
    transfer = [e.data for e in events if e.kind == "transfer"]
    assert transfer == [{"reason": "asked_for_agent", "handed_over": handed_over}]
    ends = [e.data["reason"] for e in events if e.kind == "end"]
    assert ends == ([] if handed_over else ["transfer_unavailable"])
    assert (await call.attempt()).outcome == "agent"


@pytest.mark.parametrize(
    ("kind", "data"),
    [(WSMsgType.TEXT, '{"event": "media", "sequenceNumber": 99}'), (WSMsgType.BINARY, b"\x00")],
)
async def test_a_malformed_message_ends_the_call_with_an_apology(
    sessions, attempt_id: int, flow: Flow, kind: WSMsgType, data: Any
) -> None:
    line = FakeLine()
    voice = voice_stack(flow, None)
    call = Call(sessions, attempt_id, voice, line)
    async with call:
        line.send_raw(kind, data)
        await call.ended()
    assert line.closed
    assert line.marks()[-1] == APOLOGY_PROMPT, "the last words are the apology"
    apology = voice.catalogs["pt-BR"].render(APOLOGY_PROMPT, {})
    assert voice.synthesizer.texts[-1] == apology  # type: ignore[attr-defined]
    try:
        mc.parse_inbound(data) if kind == WSMsgType.TEXT else None
        expected = (31950, "binary frame")
    except mc.MalformedMessage as exc:
        expected = (exc.code, exc.reason)
    errors = [e.data for e in await call.events() if e.kind == "stream_error"]
    assert errors == [{"code": expected[0], "reason": expected[1]}]
    assert call.live.store_write_failures == 0 and len(call.live) == 0


async def test_turn_log_is_written_in_the_order_things_happened(
    sessions, attempt_id: int, flow: Flow
) -> None:
    line = FakeLine()
    call = Call(sessions, attempt_id, voice_stack(flow, None), line)
    async with call:
        line.digits("1")  # it is me
        await call.until(lambda: len(line.marks()) >= 4)
        await call.listening()
    events = await call.events()
    kinds = [(e.kind, e.data.get("prompt_id") or e.data.get("outcome")) for e in events]
    assert kinds[:7] == [
        ("stream_start", None),
        ("prompt", "greet"),
        ("dtmf", None),
        ("outcome", "right_party"),
        ("prompt", "notice_first"),
        ("prompt", "reason"),
        ("prompt", "ask_payment_date"),
    ]
    assert kinds[-1] == ("hangup", None)
    # The prompts in the log are those the caller heard, in the same order.
    played = [e for e in events if e.kind == "prompt"]
    assert len(played) == len(line.marks())
    assert [e.id for e in events] == sorted(e.id for e in events)


async def test_a_promise_is_committed_before_its_read_back_starts(
    sessions, attempt_id: int, flow: Flow
) -> None:
    line = FakeLine()
    call = Call(sessions, attempt_id, voice_stack(flow, None), line)
    promised = (utcnow() + dt.timedelta(days=3)).date()
    seen_at_read_back: list[int] = []

    async def count_promises() -> None:
        async with sessions() as s:
            rows = await s.scalars(select(Promise).where(Promise.attempt_id == attempt_id))
            seen_at_read_back.append(len(list(rows)))

    async with call:
        line.digits("1")
        await call.listening()
        line.digits(f"{promised:%d%m}#")
        await call.until(
            lambda: (
                call.session.dialog is not None and (call.session.dialog.state == "confirm_promise")
            )
        )
        await call.listening()
        line.on_media = count_promises
        line.digits("1")  # yes, that is right
        await call.ended()
    assert seen_at_read_back and seen_at_read_back[0] == 1, "promise not stored before thanks"
    events = await call.events()
    assert prompts_of(events)[-1] == "promise_thanks"
    assert (await call.attempt()).outcome == "promise"


async def test_an_opt_out_is_committed_before_the_confirmation_is_said(
    sessions, attempt_id: int, flow: Flow
) -> None:
    line = FakeLine()
    call = Call(sessions, attempt_id, voice_stack(flow, None), line)
    at_confirmation: list[tuple[bool, int]] = []

    async def opted_out() -> None:
        async with sessions() as s:
            debtor = await s.scalar(select(Debtor).where(Debtor.external_ref == "S-1"))
            assert debtor is not None
            rows = list(await s.scalars(select(OptOut).where(OptOut.debtor_id == debtor.id)))
            at_confirmation.append((debtor.opted_out_at is not None, len(rows)))

    async with call:
        line.on_media = opted_out
        line.digits("9")  # stop calling me
        await call.ended()
    assert at_confirmation and at_confirmation[0] == (True, 1)
