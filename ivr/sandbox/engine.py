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

This module decides *when* each step of a leg runs and holds the registry of
calls; the steps that need only the leg (ringing, state changes, the last
status callback) are in ivr/sandbox/legs.py, and what the scripted callee does
on the line in ivr/sandbox/callee_actions.py, running the TwiML in
ivr/sandbox/conversation.py and the CPS limit in ivr/sandbox/cps.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

import aiohttp

from ivr.sandbox.callbacks import CallbackDispatcher
from ivr.sandbox.callee import CalleeScript
from ivr.sandbox.callee_actions import amd_verdict, detect_in_background, run_callee
from ivr.sandbox.config import SandboxConfig
from ivr.sandbox.conversation import converse
from ivr.sandbox.cps import CpsGate
from ivr.sandbox.legs import (
    CallNotLive,
    DocSource,
    LiveCall,
    enforce_time_limit,
    finish,
    parse_events,
    progress,
    ring,
)
from ivr.sandbox.line import Line
from ivr.sandbox.recordings import SandboxRecording, start_recording
from ivr.sandbox.records import RecordingRequest, SandboxCall, utcnow
from ivr.sandbox.webhooks import SignedPoster
from ivr.telephony.media_codec import new_call_sid


class Engine:
    """All calls of one sandbox."""

    def __init__(self, config: SandboxConfig) -> None:
        from ivr.sandbox.queues import QueueRegistry

        self.config = config
        self.live: dict[str, LiveCall] = {}
        self.calls: dict[str, SandboxCall] = {}
        self.recordings: dict[str, SandboxRecording] = {}
        self.base_url: str | None = None  # where this sandbox's REST API answers
        self.queues = QueueRegistry()
        self._session: aiohttp.ClientSession | None = None
        self._poster: SignedPoster | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.cps = CpsGate(config)

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

    def _new_record(
        self,
        *,
        to: str,
        from_: str,
        status_callback: str | None,
        status_callback_method: str,
        status_callback_events: Iterable[str],
        **call: Any,
    ) -> SandboxCall:
        """A new leg's record on this account, with a fresh sid.

        Every kind of leg (REST, inbound, ``<Dial>``) takes its status
        callback the same way: the method upper-cased, the events parsed.
        ``call`` holds the fields only some kinds have (url, direction, ...).
        """
        return SandboxCall(
            sid=new_call_sid(),
            account_sid=self.config.account_sid,
            to=to,
            from_=from_,
            status_callback=status_callback,
            status_callback_method=status_callback_method.upper(),
            status_callback_events=parse_events(status_callback_events),
            **call,
        )

    def _register(self, record: SandboxCall, script: CalleeScript) -> LiveCall:
        faults = script.callbacks or self.config.callbacks
        live = LiveCall(record, script, CallbackDispatcher(self.poster, record, faults))
        self.live[record.sid] = live
        self.calls[record.sid] = record
        return live

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
        recording: RecordingRequest | None = None,
    ) -> SandboxCall:
        """Create an outbound-api call (what ``POST Calls.json`` does)."""
        record = self._new_record(
            to=to,
            from_=from_,
            status_callback=status_callback,
            status_callback_method=status_callback_method,
            status_callback_events=status_callback_events,
            url=url,
            method=method.upper(),
            twiml=twiml,
            fallback_url=fallback_url,
            fallback_method=fallback_method.upper(),
            timeout_s=timeout_s,
            machine_detection=machine_detection,
            async_amd=async_amd,
            async_amd_status_callback=async_amd_status_callback,
            async_amd_status_callback_method=async_amd_status_callback_method.upper(),
            time_limit_s=time_limit_s,
            recording=recording,
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
        record = self._new_record(
            to=to,
            from_=from_,
            status_callback=status_callback,
            status_callback_method="POST",
            status_callback_events=status_callback_events,
            direction="inbound",
            url=url,
            method=method.upper(),
        )
        live = self._register(record, script or self.script_for(from_))
        live.first_request_status = "ringing"
        self.spawn(self._run_inbound(live), f"call-{record.sid}")
        return record

    # ------------------------------------------------------------------ running calls

    async def _run_outbound(self, live: LiveCall) -> None:
        rec = live.record
        try:
            delay = self.cps.queued_for()
            if delay > 0:
                rec.log("cps-queued", seconds=round(delay, 3))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(live.gone.wait(), delay)
            rec.queue_time_ms = int((utcnow() - rec.date_created).total_seconds() * 1000)
            if live.gone.is_set():
                await finish(live, "canceled")
                return
            outcome = await ring(live, rec.timeout_s, self.speed)
            if outcome != "answer":
                await finish(live, outcome)
                return
            await self._answer(live)
            await converse(self, live, DocSource(url=rec.url, method=rec.method, twiml=rec.twiml))
            await finish(live, "completed")
        finally:
            if not live.finished:
                await finish(live, "completed" if rec.answered_at else "canceled")

    async def _run_inbound(self, live: LiveCall) -> None:
        rec = live.record
        try:
            rec.start_time = utcnow()
            progress(live, "ringing", "ringing")
            await self._answer(live)
            await converse(self, live, DocSource(url=rec.url, method=rec.method))
            await finish(live, "completed")
        finally:
            if not live.finished:
                await finish(live, "completed")

    async def _answer(self, live: LiveCall) -> None:
        rec, script = live.record, live.script
        loop = asyncio.get_running_loop()
        rec.answered_at = loop.time()
        line = Line(rec, self.speed, self.config.audible_threshold_dbfs)
        live.line = line
        line.start()
        live.recording = start_recording(
            rec, line, self.recordings, self.poster, self.config.api_base_url or self.base_url
        )
        progress(live, "in-progress", "answered")
        live.tasks.append(self.spawn(run_callee(live), f"callee-{rec.sid}"))
        limit = min(
            float(rec.time_limit_s or self.config.max_call_seconds), self.config.max_call_seconds
        )
        live.tasks.append(self.spawn(enforce_time_limit(live, limit), f"limit-{rec.sid}"))
        if not rec.machine_detection:
            return
        answered_by, amd_ms = amd_verdict(script, rec.machine_detection, self.config)
        live.amd_ms = amd_ms
        if rec.async_amd:
            live.tasks.append(
                self.spawn(detect_in_background(live, answered_by, self.poster), f"amd-{rec.sid}")
            )
        else:
            await line.wait_until(lambda: line.media_ms >= amd_ms or live.gone.is_set(), None)
            rec.answered_by = answered_by
            rec.log("amd", answered_by=answered_by, ms=amd_ms)

    # ------------------------------------------------------------------ control

    def hangup(self, live: LiveCall, reason: str) -> None:
        """The far end (or the API) hangs up the call."""
        live.hang_up(reason)

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
        record = self._new_record(
            to=target,
            from_=caller_id,
            status_callback=status_callback,
            status_callback_method=status_callback_method,
            status_callback_events=status_callback_events,
            direction="outbound-dial",
            parent_call_sid=parent.sid,
        )
        record.set_status("queued")
        parent.record.child_call_sids.append(record.sid)
        return self._register(record, self.script_for(target))

    async def ring_leg(self, leg: LiveCall, timeout_s: float) -> str:
        """Ring a child leg; answered legs are left running for the bridge."""
        try:
            outcome = await ring(leg, timeout_s, self.speed)
        except asyncio.CancelledError:
            await asyncio.shield(finish(leg, "canceled"))
            raise
        if outcome == "answer":
            await self._answer(leg)
            return outcome
        await finish(leg, outcome)
        return outcome

    async def end_leg(self, leg: LiveCall) -> None:
        await finish(leg, "completed")

    def continue_leg(self, leg: LiveCall) -> None:
        """A bridged leg redirected by REST leaves the bridge and runs its new TwiML."""
        source = leg.redirect
        leg.redirect = None
        leg.interrupt.clear()

        async def run() -> None:
            try:
                if source is not None:
                    await converse(self, leg, source)
            finally:
                await finish(leg, "completed")

        self.spawn(run(), f"leg-{leg.sid}")
