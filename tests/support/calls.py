"""A fake carrier line, fake speech engines and a call runner for the session tests.

Kept apart from the tests (as :mod:`tests.voice_support` is) so that each
test reads as what the caller does and what the store holds. The fakes
implement :mod:`ivr.voice.interfaces` and the parts of aiohttp's
``WebSocketResponse`` that :class:`~ivr.calls.transport.MediaTransport` uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, WSMessage, WSMsgType
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.calls.dialer import claim_manual_attempt
from ivr.calls.live import LiveCalls
from ivr.calls.ports import PaymentDetailsPort
from ivr.calls.session import CallSession
from ivr.calls.voice import LOCALES, VoiceStack, grammar_root, prompt_root
from ivr.dialog.flow import Flow
from ivr.dialog.grammars import all_contexts, load_grammar
from ivr.dialog.prompts import validate_catalogs
from ivr.store.importer import import_debtors
from ivr.store.models import CallAttempt, CallEvent, utcnow
from ivr.telephony import media_codec as mc
from ivr.telephony.stream_token import TOKEN_PARAMETER, StreamTokens
from ivr.voice.interfaces import AsrEvent
from scheduler.manual import next_legal_instant

PROMPT_SECONDS = 0.2
MULAW_SILENCE = b"\xff"
CSV = (
    "external_ref,name,phone,amount,due_date,creditor,locale,region,timezone,birth_year\n"
    "S-1,Maria Souza,+5511987654321,10.00,2026-11-01,Loja,pt-BR,SP,,\n"
)


# ---------------------------------------------------------------- fakes


class SilentSynthesizer:
    """Every prompt is the same short silence: the session logic, not the voice, is tested."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def render(self, text: str, locale: str, *, personal: bool = False) -> bytes:
        self.texts.append(text)
        return MULAW_SILENCE * int(8000 * PROMPT_SECONDS)

    async def prerender(self, texts: Iterable[str], locale: str, *, personal: bool = False) -> int:
        return 0

    async def close(self) -> None:
        return None


class ScriptedRecognizer:
    """Hears, for a given chunk of audio, the result the test scripted for it;
    ``last`` is what it hears of the utterance in progress when asked to finish."""

    def __init__(self, script: dict[bytes, AsrEvent], last: AsrEvent | None = None) -> None:
        self.script = script
        self.last = last
        self.fed: list[bytes] = []
        self.finished = 0
        self.grammars: list[list[str]] = []
        self.closed = False

    async def accept(self, ulaw_chunk: bytes) -> AsrEvent | None:
        self.fed.append(bytes(ulaw_chunk))
        return self.script.get(bytes(ulaw_chunk))

    async def finish(self) -> AsrEvent | None:
        self.finished += 1
        return self.last

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
        callback_numbers: Mapping[str, str] | None = None,
        payment_details: PaymentDetailsPort | None = None,
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
            callback_numbers=callback_numbers,
            tokens=self.tokens,
            start_timeout_s=5,
            payment_details=payment_details,
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


def prompts_of(events: list[CallEvent]) -> list[str]:
    return [e.data["prompt_id"] for e in events if e.kind == "prompt"]


@contextlib.asynccontextmanager
async def store_held(db_url: str) -> AsyncIterator[sqlite3.Connection]:
    """Another writer holds the SQLite store's write lock (an import, say)
    until the block ends; the connection reads what is committed. The lock is
    taken in a thread: a write of the call may be between two statements,
    waiting for the event loop to send its commit."""
    path = db_url.split("///", 1)[1]
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        await asyncio.to_thread(con.execute, "BEGIN IMMEDIATE")
        yield con
    finally:
        if con.in_transaction:
            con.execute("ROLLBACK")
        con.close()
