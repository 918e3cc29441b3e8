"""One live call: the Media Streams transport driving the dialog.

The transport turns WebSocket messages (via the codec) into dialog events and
executes the dialog's actions: prompts go out as 20 ms mu-law frames followed
by a mark, caller audio feeds the recognizer, keypad digits are collected,
outcomes are written to the store as they happen. A malformed message ends
this call politely; it never reaches past this session.

Nothing is said before ``start`` proves which call this is
(:func:`~ivr.calls.stream_start.authorize_start`); a socket that does not
send a valid one within ``IVR_STREAM_START_TIMEOUT_SECONDS`` is closed with
one log line and no write. A write the store still refuses after its retries
ends the call with an apology (:mod:`ivr.calls.store_writer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from aiohttp import WSCloseCode, WSMsgType, web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr import metrics
from ivr.calls.context import build_call_context, debtor_zone
from ivr.calls.store_writer import (
    RETRY_PAUSES_S,
    EventWriter,
    StoreWriteFailed,
    Work,
    write_with_retry,
)
from ivr.calls.stream_start import authorize_start
from ivr.calls.voice import VoiceStack
from ivr.dialog import events as ev
from ivr.dialog.flow import Dialog
from ivr.keys import LIVE_CALLS, SESSIONS, SETTINGS, STREAM_TOKENS, TRANSFERS, VOICE
from ivr.logs import bind_ids
from ivr.store import queries
from ivr.store.models import CallAttempt, utcnow
from ivr.telephony import media_codec as mc
from ivr.telephony import mulaw
from ivr.telephony.stream_token import StreamTokens
from ivr.voice.asr import COMPLETE_SILENCE_MS, Recognizer

log = structlog.get_logger(__name__)

END_DRAIN_TIMEOUT_S = 60.0
APOLOGY_PROMPT = "technical_goodbye"
STORE_FAILED_FLAG = "store_write_failed"


@dataclass
class _Playing:
    play_id: str
    prompt_id: str
    barge_in: bool


class CallSession:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        sessions: async_sessionmaker[AsyncSession],
        voice: VoiceStack,
        *,
        transfers: Any = None,
        live: Any = None,
        callback_number: str = "",
        tokens: StreamTokens | None = None,
        start_timeout_s: float = 5.0,
    ) -> None:
        self.callback_number = callback_number
        self.tokens = tokens
        self.start_timeout_s = start_timeout_s
        self.ws = ws
        self.sessions = sessions
        self.voice = voice
        self.transfers = transfers
        self.live = live
        self.paid_pause_days = 2  # the campaign's, once the stream says which call this is
        self.seq = mc.StreamSequence()
        self.stream_sid: str | None = None
        self.call_sid: str | None = None
        self.attempt_id: int | None = None
        self.locale = "pt-BR"
        self.zone: ZoneInfo = ZoneInfo("America/Sao_Paulo")
        self.dialog: Dialog | None = None
        self.recognizer: Recognizer | None = None
        self.events: asyncio.Queue[ev.Event | None] = asyncio.Queue()
        self.playing: OrderedDict[str, _Playing] = OrderedDict()
        self.listen: ev.Listen | None = None
        self.silence_timer: asyncio.TimerHandle | None = None
        self.ending = False
        self.closed = False
        self.drained = asyncio.Event()
        self.drained.set()
        self.input_at: float | None = None
        self.machine = False
        self._play_seq = 0
        self._dialog_task: asyncio.Task[None] | None = None
        self._asr_queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._asr_task: asyncio.Task[None] | None = None
        self.writer: EventWriter | None = None
        self.store_failed = False
        self._failure_task: asyncio.Task[None] | None = None
        self.country = "BR"
        self.region: str | None = None
        self.outcome: str | None = None

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        deadline = asyncio.get_running_loop().time() + self.start_timeout_s
        try:
            while not self.closed:
                timeout = None
                if self.attempt_id is None:
                    timeout = max(0.0, deadline - asyncio.get_running_loop().time())
                try:
                    msg = await self.ws.receive(timeout=timeout)
                except TimeoutError:
                    log.warning("media.start_timeout", timeout_s=self.start_timeout_s)
                    break
                if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                    break
                if msg.type == WSMsgType.TEXT:
                    try:
                        parsed = mc.parse_inbound(msg.data)
                        self.seq.feed(parsed)
                    except mc.MalformedMessage as exc:
                        await self._malformed(exc)
                        break
                    await self._on_message(parsed)
                elif msg.type == WSMsgType.BINARY:
                    await self._malformed(mc.MalformedMessage(31950, "binary frame"))
                    break
                elif msg.type == WSMsgType.ERROR:
                    log.warning("media.ws_error", error=str(self.ws.exception()))
                    break
                if self.closed:
                    break
        finally:
            await self._shutdown()

    async def _shutdown(self) -> None:
        self._cancel_silence()
        self.events.put_nowait(ev.Hangup())
        self.events.put_nowait(None)
        if self._dialog_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._dialog_task, 10)
        if self._failure_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._failure_task, 30)
        if self.writer is not None:
            await self.writer.close()
        self._asr_queue.put_nowait(None)
        if self._asr_task is not None:
            self._asr_task.cancel()
            with contextlib.suppress(BaseException):
                await self._asr_task
        if self.recognizer is not None:
            self.recognizer.close()
        if self.live is not None and self.call_sid:
            self.live.remove(self.call_sid)
        if self.dialog is not None:
            metrics.CALL_OUTCOMES.labels(self.outcome or "no_contact").inc()
        if not self.ws.closed:
            await self.ws.close()

    async def _malformed(self, exc: mc.MalformedMessage) -> None:
        """End this call politely: a short apology if we can still speak, then close."""
        log.warning("media.malformed", code=exc.code, reason=exc.reason, call_sid=self.call_sid)
        if self.attempt_id is not None:
            data = {"code": exc.code, "reason": exc.reason}
            attempt_id = self.attempt_id

            async def work(s: AsyncSession) -> None:
                await queries.add_event(s, attempt_id, "stream_error", data)

            with contextlib.suppress(StoreWriteFailed):
                await self._write(work, "stream_error", pauses=())
        await self._apologize()
        self.closed = True

    async def _apologize(self) -> None:
        """Say the catalog's short apology and wait (bounded) until it has played."""
        if not self.stream_sid or self.ws.closed:
            return
        with contextlib.suppress(Exception):
            catalog = self.voice.catalogs[self.locale]
            text = catalog.render(APOLOGY_PROMPT, {})
            audio = await self.voice.synthesizer.render(text, self.locale)
            self.playing[APOLOGY_PROMPT] = _Playing(APOLOGY_PROMPT, APOLOGY_PROMPT, False)
            self.drained.clear()
            await self._send_audio(audio, APOLOGY_PROMPT)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.drained.wait(), min(len(audio) / 8000 + 1, 8))

    # ------------------------------------------------------------ store

    async def _write(self, work: Work, what: str, pauses: tuple[float, ...] | None = None) -> None:
        """One durable write of this call, retried; a final failure ends the call."""
        try:
            await write_with_retry(
                self.sessions,
                work,
                what=what,
                call_sid=self.call_sid,
                pauses=RETRY_PAUSES_S if pauses is None else pauses,
            )
        except StoreWriteFailed as exc:
            self._store_failed(what, str(exc))
            raise

    def _store_failed(self, what: str, error: str) -> None:
        """Once per call: log it, count it, flag the attempt, end the call politely."""
        if self.store_failed:
            return
        self.store_failed = True
        log.error(
            "call.store_write_failed",
            what=what,
            error=error,
            attempt_id=self.attempt_id,
            call_sid=self.call_sid,
        )
        if self.live is not None:
            self.live.store_write_failed()
        self._failure_task = asyncio.get_running_loop().create_task(self._end_after_failure())

    async def _end_after_failure(self) -> None:
        self.ending = True
        self.listen = None
        self._cancel_silence()
        self._barge(force=True)
        await self._apologize()
        attempt_id = self.attempt_id

        async def flag(s: AsyncSession) -> None:
            attempt = await s.get(CallAttempt, attempt_id)
            if attempt is not None:
                attempt.error = STORE_FAILED_FLAG
                attempt.outcome = attempt.outcome or "error"

        with contextlib.suppress(StoreWriteFailed):
            await write_with_retry(
                self.sessions, flag, what="failure_flag", call_sid=self.call_sid, pauses=(0.2,)
            )
        self.closed = True
        if not self.ws.closed:
            await self.ws.close()

    # ------------------------------------------------------------ inbound

    async def _on_message(self, msg: mc.InboundMessage) -> None:
        if isinstance(msg, mc.Start):
            await self._on_start(msg)
        elif isinstance(msg, mc.Media):
            if self.recognizer is not None and not self.ending:
                self._asr_queue.put_nowait(msg.payload)
        elif isinstance(msg, mc.Dtmf):
            await self._on_digit(msg.digit)
        elif isinstance(msg, mc.Mark):
            self._on_mark(msg.name)
        elif isinstance(msg, mc.Stop):
            self.closed = True

    async def _on_start(self, msg: mc.Start) -> None:
        verdict = (
            await authorize_start(self.sessions, self.tokens, msg)
            if self.tokens is not None
            else None
        )
        if verdict is None or verdict.attempt_id is None:
            # Not this call's stream: close without a word, write nothing.
            log.warning(
                "media.start_refused",
                reason=verdict.reason if verdict else "no_tokens",
                call_sid=msg.call_sid[:40],
            )
            self.closed = True
            await self.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"stream refused")
            return
        self.stream_sid = msg.stream_sid
        self.call_sid = msg.call_sid
        self.attempt_id = verdict.attempt_id
        bind_ids(call_sid=msg.call_sid, attempt_id=self.attempt_id)
        async with self.sessions() as s:
            ctx_data = await queries.load_attempt_context(s, self.attempt_id)
            if ctx_data is None:  # deleted since the start was accepted
                await self._malformed(mc.MalformedMessage(31924, "unknown attempt"))
                return
            attempt = ctx_data.attempt
            answered_by = attempt.answered_by
            self.zone = debtor_zone(ctx_data.debtor)
            self.country = ctx_data.debtor.country
            self.region = ctx_data.debtor.region
            if ctx_data.campaign is not None:
                self.paid_pause_days = ctx_data.campaign.paid_pause_business_days
            context = await build_call_context(s, ctx_data, self.zone, self.callback_number)
        self.locale = context.locale
        catalog = self.voice.catalogs[self.locale]
        self.dialog = Dialog(context, self.voice.flow, catalog)
        if self.voice.asr is not None:
            opening = self.voice.grammar(self.locale, "confirm_identity")
            # A whole answer of the grammar ends the turn after a short silence.
            self.recognizer = Recognizer(
                self.voice.asr, opening, complete_silence_ms=COMPLETE_SILENCE_MS
            )
            self._asr_task = asyncio.create_task(self._asr_loop())
        if self.live is not None:
            self.live.add(msg.call_sid, self)
        self.writer = EventWriter(
            self.sessions,
            self.attempt_id,
            self.call_sid,
            lambda error: self._store_failed("turn_events", error),
        )
        self._dialog_task = asyncio.create_task(self._dialog_loop())
        machine = bool(answered_by and answered_by.startswith(("machine", "fax")))
        first: ev.Event = ev.MachineAnswered() if machine else ev.CallAnswered()
        self.machine = machine
        self.events.put_nowait(first)

    def machine_detected(self, answered_by: str) -> None:
        if not self.machine:
            self.machine = True
            self._barge(force=True)
            self.events.put_nowait(ev.MachineAnswered())

    def carrier_ended(self) -> None:
        self.closed = True
        if not self.ws.closed:
            asyncio.get_running_loop().create_task(self.ws.close())

    async def _asr_loop(self) -> None:
        assert self.recognizer is not None
        while True:
            chunk = await self._asr_queue.get()
            if chunk is None:
                return
            # Coalesce what piled up so a slow executor never falls behind.
            while not self._asr_queue.empty():
                more = self._asr_queue.get_nowait()
                if more is None:
                    return
                chunk += more
            metrics.RECOGNIZER_LAG.observe(len(chunk) / 8000)
            try:
                result = await self.recognizer.accept(chunk)
            except Exception as exc:  # a recognizer failure ends recognition, not the call
                log.error("asr.failed", error=str(exc), call_sid=self.call_sid)
                return
            if result is None:
                continue
            if not result.final:
                if result.text and self.listen is not None:
                    self._barge()
                continue
            if not result.text or self.listen is None:
                continue
            text = self.voice.to_understood_text(result.text)
            log.debug("asr.final", text=result.text, call_sid=self.call_sid)
            # A short answer can end (150 ms of quiet) within one coalesced chunk,
            # with no partial result before it: it barges in all the same.
            self._barge()
            self._input_arrived()
            self.events.put_nowait(ev.Speech(text, result.confidence, True))

    async def _on_digit(self, digit: str) -> None:
        """Each key goes to the dialog as it comes; the flow buffers dates and amounts."""
        self._barge()
        if self.listen is None:
            return
        self._input_arrived()
        self.events.put_nowait(ev.Digits(digit))

    def _input_arrived(self) -> None:
        self.input_at = time.perf_counter()
        self._cancel_silence()

    def _on_mark(self, name: str) -> None:
        playing = self.playing.pop(name, None)
        if playing is None:
            return
        self.events.put_nowait(ev.PromptDone(name))
        if not self.playing:
            self.drained.set()
            self._arm_silence()

    # ------------------------------------------------------------ barge-in

    def _barge(self, force: bool = False) -> None:
        """Caller input during a prompt: stop the audio (Twilio returns the marks)."""
        if not self.playing or self.stream_sid is None:
            return
        if not force and not all(p.barge_in for p in self.playing.values()):
            return
        text = mc.encode_outbound(self.stream_sid, mc.OutClear())
        asyncio.get_running_loop().create_task(self._send_text(text))

    # ------------------------------------------------------------ timers

    def _arm_silence(self) -> None:
        if self.listen is None or self.playing or self.silence_timer is not None:
            return
        loop = asyncio.get_running_loop()
        self.silence_timer = loop.call_later(self.listen.timeout_s, self._silence)

    def _silence(self) -> None:
        self.silence_timer = None
        if self.listen is None:
            return
        self.listen = None
        self.events.put_nowait(ev.Silence())

    def _cancel_silence(self) -> None:
        if self.silence_timer is not None:
            self.silence_timer.cancel()
            self.silence_timer = None

    # ------------------------------------------------------------ dialog

    async def _dialog_loop(self) -> None:
        assert self.dialog is not None
        while True:
            event = await self.events.get()
            if event is None:
                return
            if self.store_failed:
                continue  # the call is ending with an apology: nothing more is said
            try:
                if (
                    isinstance(event, ev.CallAnswered | ev.MachineAnswered)
                    and not self.dialog.state
                ):
                    actions = self.dialog.start(event)
                else:
                    actions = self.dialog.handle(event)
                for action in actions:
                    await self._execute(action)
                self._arm_silence()
            except StoreWriteFailed:
                continue  # already logged; _end_after_failure ends the call
            except Exception:
                log.exception("dialog.failed", call_sid=self.call_sid)
                await self._record_outcome_if_missing("error")
                self.closed = True
                if not self.ws.closed:
                    await self.ws.close()
                return
            if isinstance(event, ev.Hangup):
                await self._record_outcome_if_missing("no_contact")
                return

    async def _execute(self, action: ev.Action) -> None:
        assert self.attempt_id is not None
        if self.store_failed:
            return
        if isinstance(action, ev.Play):
            await self._play(action)
        elif isinstance(action, ev.Listen):
            await self._start_listening(action)
        elif isinstance(action, ev.EndCall):
            await self._end(action.reason)
        elif isinstance(action, ev.Transfer):
            await self._transfer(action.reason)
        else:
            await self._persist(action)

    async def _play(self, action: ev.Play) -> None:
        assert self.dialog is not None
        catalog = self.voice.catalogs[self.locale]
        text = catalog.render(action.prompt_id, action.variables, action.variant)
        audio = await self.voice.synthesizer.render(text, self.locale)
        self._play_seq += 1
        play_id = action.play_id or f"p{self._play_seq}"
        self._log("prompt", {"prompt_id": action.prompt_id, "text": text})
        self.playing[play_id] = _Playing(play_id, action.prompt_id, action.barge_in)
        self.drained.clear()
        await self._send_audio(audio, play_id)

    async def _send_audio(self, audio: bytes, mark: str) -> None:
        """Send a prompt as 20 ms frames, grouped ten to a message after the first.

        The first frame goes alone so the caller hears the reply as soon as
        possible; grouping the rest (Twilio accepts chunks longer than 20 ms)
        cuts the messages per prompt tenfold, which keeps the event loop free
        for the other calls' audio. A final mark says when it has played.
        """
        if self.stream_sid is None or self.ws.closed:
            return
        frames = list(mulaw.frames(audio))
        chunks = [frames[:1]] + [frames[i : i + 10] for i in range(1, len(frames), 10)]
        for n, group in enumerate(chunks):
            if not group:
                continue
            payload = b"".join(group)
            await self._send_text(mc.encode_outbound(self.stream_sid, mc.OutMedia(payload=payload)))
            if n == 0 and self.input_at is not None:
                latency = (time.perf_counter() - self.input_at) * 1000
                metrics.TURN_SECONDS.observe(latency / 1000)
                log.debug("turn.first_frame", latency_ms=round(latency, 1), call_sid=self.call_sid)
                self.input_at = None
        await self._send_text(mc.encode_outbound(self.stream_sid, mc.OutMark(name=mark)))

    async def _send_text(self, text: str) -> None:
        if self.ws.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_str(text)

    async def _start_listening(self, action: ev.Listen) -> None:
        self.listen = action
        self._cancel_silence()
        if self.recognizer is not None:
            phrases = self.voice.grammar(self.locale, action.grammar)
            if phrases:
                # A new question: whatever was heard before belongs to the last one.
                self.recognizer.reset()
                await self.recognizer.set_grammar(phrases)
        self._arm_silence()

    async def _end(self, reason: str) -> None:
        self.ending = True
        self.listen = None
        self._cancel_silence()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drained.wait(), END_DRAIN_TIMEOUT_S)
        self._log("end", {"reason": reason})
        await self._flush_log()
        self.closed = True
        if not self.ws.closed:
            await self.ws.close()

    async def _transfer(self, reason: str) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drained.wait(), END_DRAIN_TIMEOUT_S)
        handed_over = False
        if self.transfers is not None and self.call_sid and self.attempt_id is not None:
            handed_over = await self.transfers.request(
                attempt_id=self.attempt_id,
                call_sid=self.call_sid,
                reason=reason,
                locale=self.locale,
            )
        await self._flush_log()
        attempt_id = self.attempt_id

        async def work(s: AsyncSession) -> None:
            await queries.add_event(
                s, attempt_id or 0, "transfer", {"reason": reason, "handed_over": handed_over}
            )
            attempt = await s.get(CallAttempt, attempt_id)
            if attempt is not None:
                attempt.outcome = "agent"

        with contextlib.suppress(StoreWriteFailed):
            await self._write(work, "transfer")
        if not handed_over and not self.store_failed:
            await self._end("transfer_unavailable")

    def _log(self, kind: str, data: dict[str, Any]) -> None:
        """Queue an event row; written in order by the call's writer task."""
        if self.writer is not None:
            self.writer.put(kind, data)

    async def _flush_log(self) -> None:
        if self.writer is not None:
            await self.writer.flush()

    async def _persist(self, action: ev.Action) -> None:
        """Outcomes are committed as they happen.

        Turn logs and the current outcome go through the ordered writer; a
        promise, an opt-out, a wrong number, a payment claim or a callback is
        committed before the next action runs (after everything logged
        before it), so it survives whatever happens to the call next.
        """
        if isinstance(action, ev.LogTurn):
            self._log(action.kind, dict(action.data))
            return
        if isinstance(action, ev.RecordOutcome):
            self.outcome = action.outcome
            self._log("outcome", {"outcome": action.outcome})
            return
        await self._flush_log()
        attempt_id = self.attempt_id

        async def work(s: AsyncSession) -> None:
            attempt = await s.get(CallAttempt, attempt_id)
            assert attempt is not None
            if isinstance(action, ev.RecordPromise):
                await queries.record_promise(s, attempt, action.date, action.amount_cents)
            elif isinstance(action, ev.OptOut):
                await queries.record_opt_out(s, attempt)
            elif isinstance(action, ev.MarkWrongNumber):
                await queries.record_wrong_number(s, attempt)
            elif isinstance(action, ev.RecordAlreadyPaid):
                await queries.record_already_paid(s, attempt, self._paid_pause_until())
            elif isinstance(action, ev.ScheduleCallback):
                await queries.record_callback(s, attempt, self._callback_due(action.at))

        await self._write(work, type(action).__name__)

    async def _record_outcome_if_missing(self, outcome: str) -> None:
        if self.attempt_id is None:
            return
        await self._flush_log()
        attempt_id = self.attempt_id

        async def work(s: AsyncSession) -> None:
            attempt = await s.get(CallAttempt, attempt_id)
            if attempt is not None and attempt.outcome is None:
                attempt.outcome = outcome
            self.outcome = self.outcome or outcome

        with contextlib.suppress(StoreWriteFailed):
            await self._write(work, "outcome")

    def _paid_pause_until(self) -> dt.datetime:
        """N business days (no weekends, no holidays) in the debtor's calendar."""
        from scheduler.windows import add_business_days

        return add_business_days(
            utcnow(), self.paid_pause_days, self.zone.key, self.country, self.region
        )

    def _callback_due(self, at: dt.datetime | None) -> dt.datetime:
        if at is None:
            return utcnow() + dt.timedelta(hours=4)
        if at.tzinfo is None:
            at = at.replace(tzinfo=self.zone)
        return at.astimezone(dt.UTC)


async def run_media_socket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=1 << 20)
    await ws.prepare(request)
    app = request.app
    session = CallSession(
        ws,
        app[SESSIONS],
        app[VOICE],
        transfers=app.get(TRANSFERS),
        live=app[LIVE_CALLS],
        callback_number=app[SETTINGS].twilio_from_number or "",
        tokens=app[STREAM_TOKENS],
        start_timeout_s=app[SETTINGS].stream_start_timeout_seconds,
    )
    await session.run()
    return ws
