"""The carrier's call engine: queues, rings, answers, runs and ends calls.

One :class:`LiveCall` per leg holds the moving parts (its :class:`Line`, the
scripted callee, the pending redirect); its :class:`SandboxCall` record is
what REST and tests see. The life of an outbound call follows Twilio:
``queued`` (held here by the CPS limit) -> ``initiated`` -> ``ringing`` ->
``in-progress`` (answered; answering-machine detection runs, synchronously
before the first webhook or in the background) -> ``completed``, or an end
state ``busy`` / ``no-answer`` / ``failed`` / ``canceled``. While in
progress, the TwiML walker runs the call's documents; a REST update with
``Url``/``Twiml`` interrupts whatever is running (closing an open stream with
``stop``) and starts the new document; the callee hanging up, a REST
``Status=completed`` or the time limit end it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp

from ivr.sandbox.callbacks import CallbackDispatcher
from ivr.sandbox.callee import CalleeScript, HangUp, Press, Silence, Speak, WaitForPrompt
from ivr.sandbox.config import SandboxConfig
from ivr.sandbox.line import Line, SpeechInput
from ivr.sandbox.records import (
    API_VERSION,
    FINAL_STATUSES,
    SandboxCall,
    StatusChange,
    rfc2822,
    utcnow,
)
from ivr.sandbox.twiml import Document, HangupSignal, LeaveSignal, TwimlError, Walker, parse_twiml
from ivr.sandbox.webhooks import SignedPoster
from ivr.telephony.media_codec import new_call_sid

if TYPE_CHECKING:
    from ivr.sandbox.queues import QueueMember

ERROR_APPLICATION = 11200


class CallNotLive(Exception):
    """A redirect was asked of a call that has ended (Twilio error 21220)."""


@dataclass
class DocSource:
    """Where the next TwiML comes from: a URL to fetch or inline TwiML."""

    url: str | None = None
    method: str = "POST"
    twiml: str | None = None


@dataclass
class LiveCall:
    """The moving parts of one call leg."""

    record: SandboxCall
    script: CalleeScript
    dispatcher: CallbackDispatcher
    line: Line | None = None
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    interrupt: asyncio.Event = field(default_factory=asyncio.Event)
    redirect: DocSource | None = None
    end_reason: str | None = None
    amd_ms: int | None = None
    end_ms: int | None = None
    queue_member: QueueMember | None = None
    finished: bool = False
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    @property
    def sid(self) -> str:
        return self.record.sid


def parse_events(values: Iterable[str]) -> tuple[str, ...]:
    """StatusCallbackEvent values, repeated or space-separated; default ``completed``."""
    events = tuple(e for v in values for e in v.split() if e)
    return events or ("completed",)


class Engine:
    """All calls of one sandbox."""

    def __init__(self, config: SandboxConfig) -> None:
        from ivr.sandbox.queues import QueueRegistry

        self.config = config
        self.live: dict[str, LiveCall] = {}
        self.calls: dict[str, SandboxCall] = {}
        self.queues = QueueRegistry()
        self._session: aiohttp.ClientSession | None = None
        self._poster: SignedPoster | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._cps_next = 0.0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._poster = SignedPoster(
            session=self._session,
            auth_token=self.config.auth_token,
            rewrites=self.config.rewrite_base,
            timeout_s=self.config.webhook_timeout_s,
        )

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for live in self.live.values():
            if live.line is not None:
                await live.line.close()
            await live.dispatcher.cancel()
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "engine not started"
        return self._session

    @property
    def poster(self) -> SignedPoster:
        assert self._poster is not None, "engine not started"
        return self._poster

    @property
    def speed(self) -> float:
        return self.config.clock_speed

    def spawn(self, coro: Any, name: str) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def script_for(self, target: str) -> CalleeScript:
        return self.config.callees.get(target, self.config.default_callee)

    def _register(self, record: SandboxCall, script: CalleeScript) -> LiveCall:
        faults = script.callbacks or self.config.callbacks
        live = LiveCall(record, script, CallbackDispatcher(self.poster, record, faults))
        self.live[record.sid] = live
        self.calls[record.sid] = record
        return live

    # ------------------------------------------------------------------ CPS

    def cps_admit(self) -> bool:
        """Reject mode: may a call start now? (consumes the slot if so)."""
        cps = self.config.cps
        if cps is None or self.config.cps_mode != "reject":
            return True
        now = asyncio.get_running_loop().time()
        if now < self._cps_next:
            return False
        self._cps_next = now + 1.0 / cps
        return True

    def _cps_slot(self) -> float:
        """Queue mode: wall-clock seconds this call must stay queued."""
        cps = self.config.cps
        if cps is None or self.config.cps_mode != "queue":
            return 0.0
        now = asyncio.get_running_loop().time()
        slot = max(now, self._cps_next)
        self._cps_next = slot + 1.0 / cps
        return slot - now

    # ------------------------------------------------------------------ parameters

    def _common_params(self, live: LiveCall, call_status: str) -> dict[str, str]:
        rec = live.record
        params = {
            "AccountSid": rec.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": rec.sid,
            "CallStatus": call_status,
            "Called": rec.to,
            "Caller": rec.from_,
            "Direction": rec.direction,
            "From": rec.from_,
            "To": rec.to,
        }
        if rec.parent_call_sid:
            params["ParentCallSid"] = rec.parent_call_sid
        return params

    def voice_params(self, live: LiveCall) -> dict[str, str]:
        """The parameters of every TwiML request Twilio makes for this call."""
        rec = live.record
        params = self._common_params(live, rec.status)
        if rec.machine_detection and not rec.async_amd and rec.answered_by:
            params["AnsweredBy"] = rec.answered_by
            params["MachineDetectionDuration"] = str(live.amd_ms or 0)
        return params

    def _status_params(self, live: LiveCall, call_status: str) -> dict[str, str]:
        rec = live.record
        params = self._common_params(live, call_status)
        params["Timestamp"] = rfc2822(utcnow()) or ""
        params["CallbackSource"] = "call-progress-events"
        if call_status in FINAL_STATUSES:
            params["CallDuration"] = str(rec.duration or 0)
        if rec.machine_detection and not rec.async_amd and rec.answered_by:
            params["AnsweredBy"] = rec.answered_by
        return params

    def _progress(self, live: LiveCall, status: str, event: str) -> None:
        """Move the call to ``status`` and emit the matching status callback."""
        rec = live.record
        if status == "initiated":
            # "initiated" is a callback event, not a Call resource status.
            rec.status_history.append(StatusChange(status, utcnow()))
            rec.log("status", status=status)
        else:
            rec.set_status(status)
        live.dispatcher.emit(event, self._status_params(live, status))

    # ------------------------------------------------------------------ creating calls

    def place_call(
        self,
        *,
        to: str,
        from_: str,
        url: str | None = None,
        method: str = "POST",
        twiml: str | None = None,
        fallback_url: str | None = None,
        fallback_method: str = "POST",
        status_callback: str | None = None,
        status_callback_method: str = "POST",
        status_callback_events: Iterable[str] = (),
        timeout_s: int = 60,
        machine_detection: str | None = None,
        async_amd: bool = False,
        async_amd_status_callback: str | None = None,
        async_amd_status_callback_method: str = "POST",
        time_limit_s: int | None = None,
    ) -> SandboxCall:
        """Create an outbound-api call (what ``POST Calls.json`` does)."""
        record = SandboxCall(
            sid=new_call_sid(),
            account_sid=self.config.account_sid,
            to=to,
            from_=from_,
            url=url,
            method=method.upper(),
            twiml=twiml,
            fallback_url=fallback_url,
            fallback_method=fallback_method.upper(),
            status_callback=status_callback,
            status_callback_method=status_callback_method.upper(),
            status_callback_events=parse_events(status_callback_events),
            timeout_s=timeout_s,
            machine_detection=machine_detection,
            async_amd=async_amd,
            async_amd_status_callback=async_amd_status_callback,
            async_amd_status_callback_method=async_amd_status_callback_method.upper(),
            time_limit_s=time_limit_s,
        )
        record.set_status("queued")
        live = self._register(record, self.script_for(to))
        self.spawn(self._run_outbound(live), f"call-{record.sid}")
        return record

    def start_inbound_call(
        self,
        *,
        from_: str,
        to: str,
        url: str,
        method: str = "POST",
        script: CalleeScript | None = None,
        status_callback: str | None = None,
        status_callback_events: Iterable[str] = (),
    ) -> SandboxCall:
        """A call *to* the service's number; ``script`` is the caller's behaviour."""
        record = SandboxCall(
            sid=new_call_sid(),
            account_sid=self.config.account_sid,
            to=to,
            from_=from_,
            direction="inbound",
            url=url,
            method=method.upper(),
            status_callback=status_callback,
            status_callback_events=parse_events(status_callback_events),
        )
        live = self._register(record, script or self.script_for(from_))
        self.spawn(self._run_inbound(live), f"call-{record.sid}")
        return record

    # ------------------------------------------------------------------ running calls

    async def _run_outbound(self, live: LiveCall) -> None:
        rec = live.record
        try:
            delay = self._cps_slot()
            if delay > 0:
                rec.log("cps-queued", seconds=round(delay, 3))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(live.gone.wait(), delay)
            rec.queue_time_ms = int((utcnow() - rec.date_created).total_seconds() * 1000)
            if live.gone.is_set():
                await self._finish(live, "canceled")
                return
            outcome = await self._ring(live, rec.timeout_s)
            if outcome != "answer":
                await self._finish(live, outcome)
                return
            await self._answer(live)
            await self._converse(live, DocSource(url=rec.url, method=rec.method, twiml=rec.twiml))
            await self._finish(live, "completed")
        finally:
            if not live.finished:
                await self._finish(live, "completed" if rec.answered_at else "canceled")

    async def _run_inbound(self, live: LiveCall) -> None:
        rec = live.record
        try:
            rec.start_time = utcnow()
            self._progress(live, "ringing", "ringing")
            await self._answer(live)
            await self._converse(live, DocSource(url=rec.url, method=rec.method))
            await self._finish(live, "completed")
        finally:
            if not live.finished:
                await self._finish(live, "completed")

    async def _wait_gone(self, live: LiveCall, seconds: float) -> bool:
        """Sleep ``seconds`` of call time before answer; True if the call was torn down."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(live.gone.wait(), max(0.0, seconds) / self.speed)
        return live.gone.is_set()

    async def _ring(self, live: LiveCall, timeout_s: float) -> str:
        """Dial the callee; returns ``answer`` or the end status."""
        rec, script = live.record, live.script
        rec.start_time = utcnow()
        self._progress(live, "initiated", "initiated")
        if script.answer == "failed":
            return "canceled" if await self._wait_gone(live, 0.2) else "failed"
        self._progress(live, "ringing", "ringing")
        if script.answer == "no-answer" or script.ring_seconds >= timeout_s:
            return "canceled" if await self._wait_gone(live, timeout_s) else "no-answer"
        if await self._wait_gone(live, script.ring_seconds):
            return "canceled"
        return "busy" if script.answer == "busy" else "answer"

    async def _answer(self, live: LiveCall) -> None:
        rec, script = live.record, live.script
        loop = asyncio.get_running_loop()
        rec.answered_at = loop.time()
        line = Line(rec, self.speed, self.config.audible_threshold_dbfs)
        live.line = line
        line.start()
        self._progress(live, "in-progress", "answered")
        live.tasks.append(self.spawn(self._run_callee(live), f"callee-{rec.sid}"))
        limit = min(
            float(rec.time_limit_s or self.config.max_call_seconds), self.config.max_call_seconds
        )
        live.tasks.append(self.spawn(self._time_limit(live, limit), f"limit-{rec.sid}"))
        if not rec.machine_detection:
            return
        if script.answered_by is not None:
            answered_by = script.answered_by
        elif script.answer == "voicemail":
            detect_end = rec.machine_detection.lower() == "detectmessageend"
            answered_by = "machine_end_beep" if detect_end else "machine_start"
        else:
            answered_by = "human"
        if script.amd_ms is not None:
            amd_ms = script.amd_ms
        elif answered_by == "human":
            amd_ms = self.config.amd_human_ms
        else:
            amd_ms = self.config.amd_machine_ms
        live.amd_ms = amd_ms
        if rec.async_amd:
            live.tasks.append(self.spawn(self._async_amd(live, answered_by), f"amd-{rec.sid}"))
        else:
            await line.wait_until(lambda: line.media_ms >= amd_ms or live.gone.is_set(), None)
            rec.answered_by = answered_by
            rec.log("amd", answered_by=answered_by, ms=amd_ms)

    async def _async_amd(self, live: LiveCall, answered_by: str) -> None:
        rec, line = live.record, live.line
        assert line is not None and live.amd_ms is not None
        amd_ms = live.amd_ms
        await line.wait_until(lambda: line.media_ms >= amd_ms, None)
        if live.gone.is_set() or line.closed:
            return
        rec.answered_by = answered_by
        rec.log("amd", answered_by=answered_by, ms=amd_ms)
        if not rec.async_amd_status_callback:
            return
        params = {
            "AccountSid": rec.account_sid,
            "CallSid": rec.sid,
            "AnsweredBy": answered_by,
            "MachineDetectionDuration": str(amd_ms),
        }
        await self.poster.send(
            "amd",
            rec.async_amd_status_callback,
            params,
            rec.async_amd_status_callback_method,
            rec.callbacks,
        )

    async def _time_limit(self, live: LiveCall, seconds: float) -> None:
        assert live.line is not None
        await live.line.sleep(seconds)
        if not live.line.closed:
            self.hangup(live, "time-limit")

    async def _converse(self, live: LiveCall, source: DocSource) -> None:
        """Run TwiML until it ends, following REST redirects; returns when the call must end."""
        while not live.gone.is_set():
            task = asyncio.create_task(self._run_source(live, source))
            interrupted = asyncio.create_task(live.interrupt.wait())
            done, _ = await asyncio.wait({task, interrupted}, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                interrupted.cancel()
                exc = task.exception()
                if exc is not None and not isinstance(exc, HangupSignal | LeaveSignal):
                    live.record.error(ERROR_APPLICATION, f"sandbox walker failed: {exc!r}")
                return
            live.interrupt.clear()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            if live.line is not None:
                live.line.stop_clips()
            if live.gone.is_set() or live.redirect is None:
                return
            source, live.redirect = live.redirect, None
            live.record.log("redirected", url=source.url, twiml=source.twiml is not None)

    async def _run_source(self, live: LiveCall, source: DocSource) -> None:
        walker = Walker(self, live)
        if source.twiml is not None:
            try:
                root = parse_twiml(source.twiml)
            except TwimlError as exc:
                live.record.error(exc.code, exc.message)
                return
            doc = Document(root, live.record.url)
        else:
            if not source.url:
                return
            try:
                doc = await walker.fetch("voice", source.url, source.method)
            except HangupSignal:
                rec = live.record
                if not rec.fallback_url:
                    raise
                doc = await walker.fetch("fallback", rec.fallback_url, rec.fallback_method)
        await walker.run(doc)

    async def _finish(self, live: LiveCall, outcome: str) -> None:
        """End the leg with ``outcome`` and send its last status callback (idempotent)."""
        if live.finished:
            return
        live.finished = True
        rec = live.record
        live.gone.set()
        if live.end_reason is None:
            live.end_reason = outcome
        if live.queue_member is not None:
            live.queue_member.leave()
        current = asyncio.current_task()
        for task in live.tasks:
            if task is not current:
                task.cancel()
        for task in live.tasks:
            if task is not current:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        now = utcnow()
        rec.end_time = now
        if live.line is not None:
            end_ms = live.line.media_ms if live.end_ms is None else live.end_ms
            await live.line.close()
            rec.duration = round(end_ms / 1000)
            outcome = "completed"
        else:
            rec.duration = 0
        rec.set_status(outcome)
        live.dispatcher.emit("completed", self._status_params(live, outcome))
        try:
            await live.dispatcher.flush()
        finally:
            rec.ended.set()

    # ------------------------------------------------------------------ the callee

    async def _run_callee(self, live: LiveCall) -> None:
        line, rec, script = live.line, live.record, live.script
        assert line is not None
        for step in script.steps:
            if live.gone.is_set() or line.closed:
                return
            if isinstance(step, WaitForPrompt):
                await self._wait_for_prompt(live, step)
            elif isinstance(step, Press):
                await self._press(live, step)
            elif isinstance(step, Speak):
                rec.log("speak", bytes=len(step.ulaw_audio), transcript=step.transcript)
                await line.speak(step.ulaw_audio)
                sink = line.input_sink
                if step.transcript is not None and sink is not None and sink.speech:
                    sink.queue.put_nowait(SpeechInput(step.transcript, step.confidence))
            elif isinstance(step, Silence):
                await line.sleep(step.seconds)
            elif isinstance(step, HangUp):
                self.hangup(live, "callee-hangup")
                return
        if script.hangup_when_done and not live.gone.is_set():
            self.hangup(live, "callee-hangup")

    async def _wait_for_prompt(self, live: LiveCall, step: WaitForPrompt) -> None:
        line = live.line
        assert line is not None
        base_audible = line.audible_ms
        base_marks = line.marks_played
        started = line.media_ms

        def prompt_over() -> bool:
            if line.audible_ms - base_audible < step.min_audible_ms:
                return False
            if line.silence_run_ms >= step.then_silence_ms:
                return True
            return line.marks_played > base_marks and line.playback_idle

        done = await line.wait_until(prompt_over, step.timeout_s)
        if done:
            live.record.log("prompt-heard", waited_ms=line.media_ms - started)
        elif not line.closed:
            live.record.log("prompt-timeout", waited_ms=line.media_ms - started)

    async def _press(self, live: LiveCall, step: Press) -> None:
        line, rec = live.line, live.record
        assert line is not None
        if not await line.wait_for_listener(live.script.patience_s):
            if not line.closed:
                rec.log("dtmf-lost", digits=step.digits)
            return
        for i, digit in enumerate(step.digits):
            if i:
                await line.sleep(step.gap_ms / 1000)
            if line.closed:
                return
            rec.digits_sent.append(digit)
            if line.stream is not None:
                rec.log("press", digit=digit, via="stream")
                await line.stream.send_dtmf(digit)
            elif line.input_sink is not None and line.input_sink.dtmf:
                rec.log("press", digit=digit, via="gather")
                line.input_sink.queue.put_nowait(digit)
            else:
                rec.log("dtmf-lost", digits=digit)

    # ------------------------------------------------------------------ control

    def hangup(self, live: LiveCall, reason: str) -> None:
        """The far end (or the API) hangs up the call."""
        if live.gone.is_set():
            return
        live.end_reason = reason
        if live.line is not None:
            live.end_ms = live.line.media_ms
        live.record.log("hangup", by=reason)
        live.gone.set()
        live.interrupt.set()

    def update_call(
        self,
        sid: str,
        *,
        url: str | None = None,
        method: str = "POST",
        twiml: str | None = None,
        status: str | None = None,
    ) -> SandboxCall:
        """What ``POST Calls/{sid}.json`` does; raises KeyError or CallNotLive."""
        live = self.live[sid]
        rec = live.record
        if status in ("completed", "canceled"):
            if rec.is_final:
                return rec
            if rec.status == "in-progress":
                if status == "completed":
                    self.hangup(live, "api")
                return rec
            self.hangup(live, "api-cancel")
            return rec
        if url is None and twiml is None:
            return rec
        if rec.is_final or live.gone.is_set():
            raise CallNotLive(sid)
        source = DocSource(url=url, method=method.upper(), twiml=twiml)
        if rec.status == "in-progress":
            live.redirect = source
            live.interrupt.set()
            rec.log("redirect-requested", url=url, twiml=twiml is not None)
        else:
            rec.url, rec.method, rec.twiml = url, method.upper(), twiml
        return rec

    # ------------------------------------------------------------------ dialed legs

    def new_leg(
        self,
        parent: LiveCall,
        target: str,
        *,
        caller_id: str,
        status_callback: str | None = None,
        status_callback_method: str = "POST",
        status_callback_events: Iterable[str] = (),
    ) -> LiveCall:
        """A child call placed by ``<Dial>`` (direction ``outbound-dial``)."""
        record = SandboxCall(
            sid=new_call_sid(),
            account_sid=self.config.account_sid,
            to=target,
            from_=caller_id,
            direction="outbound-dial",
            parent_call_sid=parent.sid,
            status_callback=status_callback,
            status_callback_method=status_callback_method.upper(),
            status_callback_events=parse_events(status_callback_events),
        )
        record.set_status("queued")
        parent.record.child_call_sids.append(record.sid)
        return self._register(record, self.script_for(target))

    async def ring_leg(self, leg: LiveCall, timeout_s: float) -> str:
        """Ring a child leg; answered legs are left running for the bridge."""
        try:
            outcome = await self._ring(leg, timeout_s)
        except asyncio.CancelledError:
            await asyncio.shield(self._finish(leg, "canceled"))
            raise
        if outcome == "answer":
            await self._answer(leg)
            return outcome
        await self._finish(leg, outcome)
        return outcome

    async def end_leg(self, leg: LiveCall) -> None:
        await self._finish(leg, "completed")

    def continue_leg(self, leg: LiveCall) -> None:
        """A bridged leg redirected by REST leaves the bridge and runs its new TwiML."""
        source = leg.redirect
        leg.redirect = None
        leg.interrupt.clear()

        async def run() -> None:
            try:
                if source is not None:
                    await self._converse(leg, source)
            finally:
                await self._finish(leg, "completed")

        self.spawn(run(), f"leg-{leg.sid}")
