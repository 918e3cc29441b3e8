"""One call leg of the sandbox: its moving parts and the steps that need only the leg.

A :class:`LiveCall` holds what the engine (ivr/sandbox/engine.py), the TwiML
walker, ``<Dial>`` and ``<Enqueue>`` share about one leg: its
:class:`SandboxCall` record (what REST and tests see), its :class:`Line` once
answered, the scripted callee, the pending redirect. The functions here move a
leg through Twilio's states and build the parameters Twilio sends for it;
they read nothing of the engine but the call speed, so they live apart from
the engine that decides *when* each runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ivr.sandbox.callbacks import CallbackDispatcher
from ivr.sandbox.callee import CalleeScript
from ivr.sandbox.line import Line
from ivr.sandbox.numbers import country_of
from ivr.sandbox.recordings import SandboxRecording, complete_recording
from ivr.sandbox.records import (
    API_VERSION,
    FINAL_STATUSES,
    SandboxCall,
    StatusChange,
    rfc2822,
    utcnow,
)

if TYPE_CHECKING:
    from ivr.sandbox.queues import QueueMember


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
    recording: SandboxRecording | None = None
    finished: bool = False
    # Twilio's first request for an inbound call says CallStatus=ringing: the
    # call is answered by the TwiML it returns.
    first_request_status: str | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    @property
    def sid(self) -> str:
        return self.record.sid

    def hang_up(self, reason: str) -> None:
        """The far end (or the API) hangs up; whatever runs the leg sees ``gone``."""
        if self.gone.is_set():
            return
        self.end_reason = reason
        if self.line is not None:
            self.end_ms = self.line.media_ms
        self.record.log("hangup", by=reason)
        self.gone.set()
        self.interrupt.set()


def parse_events(values: Iterable[str]) -> tuple[str, ...]:
    """StatusCallbackEvent values, repeated or space-separated; default ``completed``."""
    events = tuple(e for v in values for e in v.split() if e)
    return events or ("completed",)


# ---------------------------------------------------------------- parameters


def _common_params(live: LiveCall, call_status: str) -> dict[str, str]:
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
    if rec.direction == "inbound":
        params.update(geographic_params(rec.from_, rec.to))
    return params


def geographic_params(from_: str, to: str) -> dict[str, str]:
    """What Twilio adds to an inbound call's requests about where the numbers
    are: the country from the number's plan; city, state and postal code are
    not known for a mobile or ported number, so (as Twilio then does) empty."""
    out: dict[str, str] = {}
    for side, number in (("From", from_), ("Caller", from_), ("To", to), ("Called", to)):
        out[f"{side}Country"] = country_of(number)
        for part in ("City", "State", "Zip"):
            out[f"{side}{part}"] = ""
    return out


def voice_params(live: LiveCall) -> dict[str, str]:
    """The parameters of every TwiML request Twilio makes for this call."""
    rec = live.record
    status, live.first_request_status = live.first_request_status or rec.status, None
    params = _common_params(live, status)
    if rec.machine_detection and not rec.async_amd and rec.answered_by:
        params["AnsweredBy"] = rec.answered_by
        params["MachineDetectionDuration"] = str(live.amd_ms or 0)
    return params


def _status_params(live: LiveCall, call_status: str) -> dict[str, str]:
    rec = live.record
    params = _common_params(live, call_status)
    params["Timestamp"] = rfc2822(utcnow()) or ""
    params["CallbackSource"] = "call-progress-events"
    if call_status in FINAL_STATUSES:
        params["CallDuration"] = str(rec.duration or 0)
    if rec.machine_detection and not rec.async_amd and rec.answered_by:
        params["AnsweredBy"] = rec.answered_by
    return params


# ---------------------------------------------------------------- states


def progress(live: LiveCall, status: str, event: str) -> None:
    """Move the call to ``status`` and emit the matching status callback."""
    rec = live.record
    if status == "initiated":
        # "initiated" is a callback event, not a Call resource status.
        rec.status_history.append(StatusChange(status, utcnow()))
        rec.log("status", status=status)
    else:
        rec.set_status(status)
    live.dispatcher.emit(event, _status_params(live, status))


async def wait_gone(live: LiveCall, seconds: float, speed: float) -> bool:
    """Sleep ``seconds`` of call time before answer; True if the call was torn down."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(live.gone.wait(), max(0.0, seconds) / speed)
    return live.gone.is_set()


async def ring(live: LiveCall, timeout_s: float, speed: float) -> str:
    """Dial the callee; returns ``answer`` or the end status."""
    rec, script = live.record, live.script
    rec.start_time = utcnow()
    progress(live, "initiated", "initiated")
    if script.answer == "failed":
        return "canceled" if await wait_gone(live, 0.2, speed) else "failed"
    progress(live, "ringing", "ringing")
    if script.answer == "no-answer" or script.ring_seconds >= timeout_s:
        return "canceled" if await wait_gone(live, timeout_s, speed) else "no-answer"
    if await wait_gone(live, script.ring_seconds, speed):
        return "canceled"
    return "busy" if script.answer == "busy" else "answer"


async def enforce_time_limit(live: LiveCall, seconds: float) -> None:
    """Hang the answered call up after ``seconds`` of call time (TimeLimit)."""
    assert live.line is not None
    await live.line.sleep(seconds)
    if not live.line.closed:
        live.hang_up("time-limit")


async def finish(live: LiveCall, outcome: str) -> None:
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
    end_ms = 0
    if live.line is not None:
        end_ms = live.line.media_ms if live.end_ms is None else live.end_ms
        await live.line.close()
        rec.duration = round(end_ms / 1000)
        outcome = "completed"
    else:
        rec.duration = 0
    rec.set_status(outcome)
    live.dispatcher.emit("completed", _status_params(live, outcome))
    try:
        await live.dispatcher.flush()
        if live.recording is not None and live.line is not None:
            # Twilio processes the recording once the call has ended.
            await complete_recording(rec, live.line, live.recording, live.dispatcher.poster, end_ms)
    finally:
        rec.ended.set()
