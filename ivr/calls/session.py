"""One live call: the orchestrator that wires its parts and drives the dialog.

A call has three jobs that fail and get tested differently, each in its own
part: the socket (:mod:`ivr.calls.transport`), the caller's input
(:mod:`ivr.calls.listener`) and the record (:mod:`ivr.calls.recorder`).
This class owns what joins them: the call's life from ``start`` to close,
and the dialog, fed one event at a time, whose actions it executes in order.
It sees the speech engines only through :mod:`ivr.voice.interfaces`.

Nothing is said before ``start`` proves which call this is
(:func:`~ivr.calls.stream_start.authorize_start`); a socket that does not
send a valid one within ``IVR_STREAM_START_TIMEOUT_SECONDS`` is closed with
one log line and no write. A malformed message ends this call politely; it
never reaches past this session. A write the store still refuses after its
retries ends the call with an apology (:mod:`ivr.calls.store_writer`).
When the call ends, what it was still writing is written even if the store
is slow (:mod:`ivr.calls.call_end`); only speech and waiting are cut.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import structlog
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr import metrics
from ivr.calls import call_end
from ivr.calls.context import load_call_setup
from ivr.calls.inbound import load_setup, reference_contexts
from ivr.calls.listener import CallListener
from ivr.calls.live import LiveCalls
from ivr.calls.payment_details_call import send_payment_details
from ivr.calls.ports import PaymentDetailsPort, TransferPort
from ivr.calls.recorder import CallRecorder
from ivr.calls.speculation import ReplyWarmer
from ivr.calls.store_writer import StoreWriteFailed
from ivr.calls.stream_start import CALL_ENDED, authorize_start
from ivr.calls.transport import MediaTransport
from ivr.calls.voice import VoiceStack
from ivr.dialog import events as ev
from ivr.dialog.conversation import Dialog
from ivr.logs import bind_ids
from ivr.telephony import media_codec as mc
from ivr.telephony.stream_token import StreamTokens
from ivr.vocab.outcomes import Outcome

log = structlog.get_logger(__name__)

END_DRAIN_TIMEOUT_S = 60.0
SMS_WAIT_S = 30.0  # at the end of the call, for a payment-details SMS still being sent
APOLOGY_PROMPT = "technical_goodbye"
OPENING_GRAMMAR = "confirm_identity"
_AFTER_COMMITS = (
    ev.EndCall,
    ev.TransferToAgent,
    ev.SendPaymentDetails,
    ev.LookUpCaller,
    ev.IdentifyCaller,
)
"""Actions that act on what the store holds: they wait for the outcomes before them."""


class CallSession:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        sessions: async_sessionmaker[AsyncSession],
        voice: VoiceStack,
        *,
        transfers: TransferPort | None = None,
        live: LiveCalls | None = None,
        callback_numbers: Mapping[str, str] | None = None,
        tokens: StreamTokens | None = None,
        start_timeout_s: float = 5.0,
        payment_details: PaymentDetailsPort | None = None,
    ) -> None:
        self.payment_details = payment_details
        self.sessions, self.voice = sessions, voice
        self.transfers, self.live = transfers, live
        self.callback_numbers, self.tokens = dict(callback_numbers or {}), tokens
        self.start_timeout_s = start_timeout_s
        self.locale = "pt-BR"
        self.transport = MediaTransport(ws)
        self.events: asyncio.Queue[ev.Event | None] = asyncio.Queue()
        self.listener = CallListener(
            self.transport,
            self.events,
            grammar=lambda context: voice.grammar(self.locale, context),
            understood=voice.to_understood_text,
            heard=self._heard,
        )
        self.warmer: ReplyWarmer | None = None  # once the call's locale is known
        self.recorder: CallRecorder | None = None  # once ``start`` is accepted
        self.dialog: Dialog | None = None
        self.machine = False
        self.closed = False
        self._play_seq = 0
        self._dialog_task: asyncio.Task[None] | None = None
        self._failure_task: asyncio.Task[None] | None = None
        self._sms_task: asyncio.Task[None] | None = None
        self._commits: list[asyncio.Future[None]] = []
        self._on_store = call_end.StoreWaits()  # the dialog's waits for the store

    @property
    def call_sid(self) -> str | None:
        return self.transport.call_sid

    @property
    def store_failed(self) -> bool:
        return self.recorder is not None and self.recorder.failed

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        try:
            async with contextlib.aclosing(
                self.transport.messages(self.start_timeout_s)
            ) as inbound:
                async for msg in inbound:
                    await self._on_message(msg)
                    if self.closed:
                        break
        except mc.MalformedMessage as exc:
            await self._malformed(exc)
        finally:
            await self._shutdown()

    async def _shutdown(self) -> None:
        """The call has ended: the caller's last words (if they hung up) and what
        the dialog still has are recorded, then all closes. Nothing is played any
        more; the call's writes finish even when the store is slow, within a generous
        limit (:mod:`ivr.calls.call_end`); one unfinished then is logged and counted."""
        self.closed = True
        self.transport.line_ended()
        self.listener.cancel_silence()
        if self.recorder is not None and self.dialog is not None:  # before the hang-up's record
            self.recorder.said_at_hangup(await self.listener.last_words(), self.dialog.state)
        self.events.put_nowait(ev.Hangup())
        self.events.put_nowait(None)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + call_end.WRITES_END_LIMIT_S
        dialog_done = True
        if self._dialog_task is not None:
            dialog_done = await call_end.finish_dialog(self._dialog_task, self._on_store, deadline)
        for task, timeout in ((self._failure_task, 30), (self._sms_task, SMS_WAIT_S)):
            if task is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, timeout)
        if self.warmer is not None:
            await self.warmer.close()
        if self.recorder is not None:
            written = await self.recorder.close(max(deadline - loop.time(), 0.0))
            if not (dialog_done and written):
                cut = "turn_events" if dialog_done else "dialog"
                self.recorder.unfinished(cut, call_end.WRITES_END_LIMIT_S)
                if self.live is not None:
                    self.live.store_write_failed()
        await self.listener.close()
        if self.live is not None and self.call_sid:
            self.live.remove(self.call_sid)
        if self.dialog is not None and self.recorder is not None:
            metrics.CALL_OUTCOMES.labels(self.recorder.outcome or Outcome.NO_CONTACT).inc()
        await self.transport.close()

    async def _malformed(self, exc: mc.MalformedMessage) -> None:
        """End this call politely: a short apology if we can still speak, then close."""
        log.warning("media.malformed", code=exc.code, reason=exc.reason, call_sid=self.call_sid)
        if self.recorder is not None:
            await self.recorder.stream_error(exc.code, exc.reason)
        await self._apologize()
        self.closed = True

    async def _apologize(self) -> None:
        """Say the catalog's short apology and wait (bounded) until it has played."""
        if not self.transport.stream_sid or self.transport.closed:
            return
        with contextlib.suppress(Exception):
            _text, audio = await self.voice.speak(self.locale, APOLOGY_PROMPT)
            await self.transport.play(audio, APOLOGY_PROMPT, APOLOGY_PROMPT, barge_in=False)
            await self.transport.wait_drained(min(len(audio) / 8000 + 1, 8))

    def _store_failed(self) -> None:
        """The store refused a write after its retries: count it, end with an apology."""
        if self.live is not None:
            self.live.store_write_failed()
        self._failure_task = asyncio.get_running_loop().create_task(self._end_after_failure())

    async def _end_after_failure(self) -> None:
        self.listener.stop()
        self.transport.barge(force=True)
        await self._apologize()
        if self.recorder is not None:
            await self.recorder.flag_failure()
        self.closed = True
        await self.transport.close()

    # ------------------------------------------------------------ inbound

    async def _on_message(self, msg: mc.InboundMessage) -> None:
        if isinstance(msg, mc.Start):
            await self._on_start(msg)
        elif isinstance(msg, mc.Media):
            self.listener.audio(msg.payload)
        elif isinstance(msg, mc.Dtmf):
            self.listener.digit(msg.digit)
        elif isinstance(msg, mc.Mark):
            if self.transport.mark_played(msg.name):
                self.events.put_nowait(ev.PromptDone(msg.name))
                self.listener.arm_silence()
        elif isinstance(msg, mc.Stop):
            self.closed = True
            if self.dialog is not None and not self.dialog.finished:  # not a handover
                self.listener.caller_hung_up()

    async def _on_start(self, msg: mc.Start) -> None:
        tokens = self.tokens
        verdict = await authorize_start(self.sessions, tokens, msg) if tokens is not None else None
        if verdict is None or verdict.attempt_id is None:
            # Not this call's stream: close without a word, write nothing.
            reason = verdict.reason if verdict else "no_tokens"
            level = log.info if reason == CALL_ENDED else log.warning
            level("media.start_refused", reason=reason, call_sid=msg.call_sid[:40])
            self.closed = True
            await self.transport.refuse()
            return
        self.transport.bind(msg)
        bind_ids(call_sid=msg.call_sid, attempt_id=verdict.attempt_id)
        self.recorder = CallRecorder(
            self.sessions, verdict.attempt_id, msg.call_sid, self._store_failed
        )
        async with self.sessions() as s:
            setup = await load_setup(s, verdict.attempt_id, self.callback_numbers)
        if setup is None:  # deleted since the start was accepted
            await self._malformed(mc.MalformedMessage(mc.ERROR_MALFORMED, "unknown attempt"))
            return
        self.recorder.calendar = setup.calendar
        self.locale = setup.context.locale
        self.warmer = ReplyWarmer(self.voice, self.locale)
        self.dialog = Dialog(setup.context, self.voice.flow, self.voice.catalogs[self.locale])
        self.listener.start(self.voice.new_recognizer(self.locale, OPENING_GRAMMAR))
        if self.live is not None:
            self.live.add(msg.call_sid, self)
        self._dialog_task = asyncio.create_task(self._dialog_loop())
        self.machine = setup.machine_answered
        self.events.put_nowait(ev.MachineAnswered() if self.machine else ev.CallAnswered())

    def machine_detected(self, answered_by: str) -> None:
        if not self.machine:
            self.machine = True
            self.transport.barge(force=True)
            self.events.put_nowait(ev.MachineAnswered())

    def _heard(self, text: str) -> None:
        """The caller has said ``text`` so far (a partial result)."""
        if self.warmer is not None and self.dialog is not None:
            self.warmer.heard(self.dialog, text)

    def carrier_ended(self) -> None:
        self.closed = True
        self.transport.close_soon()

    # ------------------------------------------------------------ dialog

    async def _dialog_loop(self) -> None:
        assert self.dialog is not None and self.recorder is not None
        while (event := await self.events.get()) is not None:
            if self.store_failed:
                continue  # the call is ending with an apology: nothing more is said
            try:
                if isinstance(event, ev.CallAnswered | ev.MachineAnswered) and not (
                    self.dialog.state
                ):
                    actions = self.dialog.start(event)
                else:
                    actions = self.dialog.handle(event)
                for action in actions:
                    await self._execute(action)
                await self._committed()
                self.listener.arm_silence()
            except StoreWriteFailed:
                continue  # already logged; _end_after_failure ends the call
            except Exception:
                log.exception("dialog.failed", call_sid=self.call_sid)
                await self._on_store(self.recorder.outcome_if_missing(Outcome.ERROR))
                self.closed = True
                await self.transport.close()
                return
            if isinstance(event, ev.Hangup):
                await self._on_store(self.recorder.outcome_if_missing(Outcome.NO_CONTACT))
                return

    async def _execute(self, action: ev.Action) -> None:
        """Run one action. An outcome that must last (a promise, an opt-out, the
        person verified) is committed while the reply that follows it is
        said: the reply's first frame never waits for the store, and the
        commit is done before the next event is handled (see
        :meth:`_committed`), well before a read-back ends. What acts on the
        store or the line's end (the call's end, a transfer, an SMS, a lookup)
        waits for the commits before it."""
        assert self.recorder is not None
        if self.store_failed:
            return
        if isinstance(action, ev.Play):
            await self._play(action)
        elif isinstance(action, ev.Listen):
            if self.transport.ended:
                return  # the caller is gone: nothing more is heard
            await self.listener.listen_for(action)
            if self.warmer is not None and self.dialog is not None:
                self.warmer.question(self.dialog, action)
        elif isinstance(action, ev.LogTurn | ev.RecordOutcome):
            self.recorder.commit(action)  # queued, written in order
        elif isinstance(action, _AFTER_COMMITS):
            await self._committed()
            await self._act(action)
        else:
            self._commits.append(self.recorder.commit(action))

    async def _committed(self) -> None:
        """Wait until every outcome committed while speaking lasts; raises
        :class:`StoreWriteFailed` when the store refused one (the call ends
        with an apology)."""
        commits, self._commits = self._commits, []
        if commits:
            await self._on_store(asyncio.gather(*commits))

    async def _act(self, action: ev.Action) -> None:
        assert self.recorder is not None
        if isinstance(action, ev.EndCall):
            await self._end(action.reason)
        elif isinstance(action, ev.TransferToAgent):
            await self._transfer(action.reason)
        elif isinstance(action, ev.SendPaymentDetails):
            # The request is committed (after the promises it is about), then sent.
            await self._on_store(self.recorder.persist(action))
            self._sms_task = asyncio.create_task(
                send_payment_details(
                    self.sessions, self.payment_details, self.recorder, action, self.locale
                )
            )
        elif isinstance(action, ev.LookUpCaller):
            async with self.sessions() as s:
                found = await self._on_store(
                    reference_contexts(
                        s, self.recorder.attempt_id, action.reference, self.callback_numbers
                    )
                )
            self.events.put_nowait(ev.CallerLookup(found))
        elif isinstance(action, ev.IdentifyCaller):
            await self._on_store(self.recorder.persist(action))
            await self._on_store(self._after_persist(action))

    async def _after_persist(self, action: ev.Action) -> None:
        """Inbound: the caller's calendar once known."""
        assert self.recorder is not None
        if isinstance(action, ev.IdentifyCaller):
            async with self.sessions() as s:
                setup = await load_call_setup(s, self.recorder.attempt_id, self.callback_numbers)
            if setup is not None:
                self.recorder.calendar = setup.calendar

    async def _play(self, action: ev.Play) -> None:
        assert self.recorder is not None
        if self.transport.ended:
            return  # the caller is gone: not said, so not logged as said
        text, audio = await self.voice.speak(
            self.locale, action.prompt_id, action.variables, action.variant
        )
        self._play_seq += 1
        play_id = action.play_id or f"p{self._play_seq}"
        self.recorder.log("prompt", {"prompt_id": action.prompt_id, "text": text})
        await self.transport.play(audio, play_id, action.prompt_id, action.barge_in)

    async def _end(self, reason: str) -> None:
        assert self.recorder is not None
        self.listener.stop()
        await self.transport.wait_drained(END_DRAIN_TIMEOUT_S)
        self.recorder.log("end", {"reason": reason})
        await self._on_store(self.recorder.flush())
        self.closed = True
        if not self.transport.ended:  # else the call's end closes it, after its writes
            await self.transport.close()

    async def _transfer(self, reason: str) -> None:
        assert self.recorder is not None
        await self.transport.wait_drained(END_DRAIN_TIMEOUT_S)
        handed_over = False
        if self.transfers is not None and self.call_sid and not self.transport.ended:
            handed_over = await self.transfers.request(
                attempt_id=self.recorder.attempt_id,
                call_sid=self.call_sid,
                reason=reason,
                locale=self.locale,
            )
        await self._on_store(self.recorder.transfer(reason, handed_over))
        if not handed_over and not self.store_failed:
            await self._end("transfer_unavailable")
