"""``<Dial>``: ring other parties, play a whisper to the one who answers, bridge.

``Number``, ``Client`` (``client:NAME`` in the callee registry) and ``Sip``
nouns become child calls (``outbound-dial``, with ``ParentCallSid``) whose
scripts decide whether they answer, are busy or do not answer within the
Dial ``timeout``; several nouns ring at once and the first to answer wins. A
``url`` on the noun is fetched for the child leg and run on it before the
bridge (a ``<Hangup>`` there refuses the call). ``Queue`` takes the first
caller waiting in that queue (see :mod:`ivr.sandbox.queues`). When the bridge
ends, the Dial ``action`` gets ``DialCallStatus``/``DialCallSid``/
``DialCallDuration``; without ``action`` the document continues.
"""

from __future__ import annotations

import asyncio
import contextlib
import xml.etree.ElementTree as ET
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ivr.sandbox.twiml import ERROR_SCHEMA, Document, HangupSignal, Walker, text_of

if TYPE_CHECKING:
    from ivr.sandbox.engine import Engine
    from ivr.sandbox.legs import LiveCall


@dataclass
class Noun:
    kind: str
    target: str
    attrs: dict[str, str]


@dataclass
class DialOutcome:
    status: str
    call_sid: str | None = None
    duration: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def parse_nouns(el: ET.Element) -> list[Noun]:
    nouns: list[Noun] = []
    text = (el.text or "").strip()
    if text:
        nouns.append(Noun("Number", text, {}))
    for child in el:
        if child.tag == "Client":
            identity = child.find("Identity")
            name = text_of(identity) if identity is not None else (child.text or "").strip()
            target = "client:" + name.removeprefix("client:")
            nouns.append(Noun("Client", target, dict(child.attrib)))
        elif child.tag in ("Number", "Sip", "Queue"):
            nouns.append(Noun(child.tag, text_of(child), dict(child.attrib)))
        else:
            nouns.append(Noun(child.tag, text_of(child), dict(child.attrib)))
    return nouns


async def until_gone(coro: Coroutine[Any, Any, Any], *lives: LiveCall) -> bool:
    """Run ``coro`` unless one of ``lives`` goes first; True if it ran to the end."""
    task = asyncio.create_task(coro)
    watchers = [asyncio.create_task(live.gone.wait()) for live in lives]
    try:
        done, _ = await asyncio.wait({task, *watchers}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for watcher in watchers:
            watcher.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    if task in done:
        task.result()  # re-raise HangupSignal and friends
        return True
    return False


async def bridge(
    engine: Engine,
    a: LiveCall,
    b: LiveCall,
    time_limit_s: float,
    ended: asyncio.Event | None = None,
) -> str:
    """Connect two answered legs until one leaves; returns why the bridge ended."""
    assert a.line is not None and b.line is not None
    la, lb = a.line, b.line
    la.peer, lb.peer = lb, la
    la.stop_clips()
    lb.stop_clips()
    a.record.log("bridged", peer=b.sid)
    b.record.log("bridged", peer=a.sid)
    waits = [
        asyncio.create_task(a.gone.wait()),
        asyncio.create_task(b.gone.wait()),
        asyncio.create_task(b.interrupt.wait()),
        asyncio.create_task(la.sleep(time_limit_s)),
    ]
    if ended is not None:
        waits.append(asyncio.create_task(ended.wait()))
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
        la.peer = lb.peer = None
    if b.gone.is_set():
        reason = "b-gone"
    elif a.gone.is_set():
        reason = "a-gone"
    elif b.redirect is not None:
        reason = "b-redirect"
    elif ended is not None and ended.is_set():
        reason = "ended"
    else:
        reason = "time-limit"
    a.record.log("unbridged", peer=b.sid, reason=reason)
    b.record.log("unbridged", peer=a.sid, reason=reason)
    return reason


def _combine(outcomes: list[str]) -> str:
    if "busy" in outcomes:
        return "busy"
    if outcomes and all(o == "failed" for o in outcomes):
        return "failed"
    if outcomes and all(o == "canceled" for o in outcomes):
        return "canceled"
    return "no-answer"


async def run_dial(w: Walker, el: ET.Element, doc: Document) -> Document | None:
    live = w.live
    timeout = _int(el.get("timeout"), 30)
    time_limit = _int(el.get("timeLimit"), 14400)
    caller_id = el.get("callerId") or live.record.from_
    nouns = parse_nouns(el)
    supported = [n for n in nouns if n.kind in ("Number", "Client", "Sip", "Queue")]
    for noun in nouns:
        if noun not in supported:
            live.record.error(ERROR_SCHEMA, f"unsupported <Dial> noun <{noun.kind}>")
    if not supported:
        return None
    queue_nouns = [n for n in supported if n.kind == "Queue"]
    if queue_nouns:
        outcome = await _dial_queue(w, queue_nouns[0], doc, timeout, time_limit)
    else:
        outcome = await _dial_legs(w, supported, doc, timeout, time_limit, caller_id)
    live.record.log("dial-result", status=outcome.status, dial_call_sid=outcome.call_sid)
    action = el.get("action")
    if not action:
        return None
    params = {"DialCallStatus": outcome.status}
    if outcome.call_sid:
        params["DialCallSid"] = outcome.call_sid
    if outcome.duration is not None:
        params["DialCallDuration"] = str(outcome.duration)
    params.update(outcome.extra)
    target = w.resolve(action, doc)
    assert target is not None
    return await w.fetch("action", target, el.get("method", "POST"), params)


async def _dial_legs(
    w: Walker,
    nouns: list[Noun],
    doc: Document,
    timeout_s: int,
    time_limit: int,
    caller_id: str,
) -> DialOutcome:
    engine, live = w.engine, w.live
    legs = [
        engine.new_leg(
            live,
            noun.target,
            caller_id=caller_id,
            status_callback=w.resolve_optional(noun.attrs.get("statusCallback"), doc),
            status_callback_method=noun.attrs.get("statusCallbackMethod", "POST"),
            status_callback_events=[noun.attrs.get("statusCallbackEvent", "")],
        )
        for noun in nouns
    ]
    rings = {
        asyncio.create_task(engine.ring_leg(leg, timeout_s)): (leg, noun)
        for leg, noun in zip(legs, nouns, strict=True)
    }
    continued: set[str] = set()
    try:
        winner: tuple[LiveCall, Noun] | None = None
        outcomes: list[str] = []
        pending = set(rings)
        while pending and winner is None:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                result = task.result()
                outcomes.append(result)
                if result == "answer" and winner is None:
                    winner = rings[task]
                elif result == "answer":
                    await engine.end_leg(rings[task][0])
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if winner is None:
            return DialOutcome(_combine(outcomes))
        leg, noun = winner
        if noun.attrs.get("url"):
            accepted = await _whisper(w, leg, noun, doc)
            if not accepted:
                await engine.end_leg(leg)
                return DialOutcome("no-answer", leg.sid)
        reason = await bridge(engine, live, leg, time_limit)
        assert leg.line is not None
        duration = round(leg.line.media_ms / 1000)
        if reason == "b-redirect":
            continued.add(leg.sid)
            engine.continue_leg(leg)
        else:
            await engine.end_leg(leg)
        return DialOutcome("completed", leg.sid, duration)
    finally:
        for task in rings:
            task.cancel()
        for leg in legs:
            if leg.sid not in continued and not leg.finished:
                await asyncio.shield(engine.end_leg(leg))


async def _whisper(w: Walker, leg: LiveCall, noun: Noun, doc: Document) -> bool:
    """Run the noun's ``url`` TwiML on the answered leg; False if it hung up."""
    child = Walker(w.engine, leg)
    target = w.resolve(noun.attrs["url"], doc)
    assert target is not None
    try:
        whisper = await child.fetch("whisper", target, noun.attrs.get("method", "POST"))
        finished = await until_gone(child.run(whisper), leg)
    except HangupSignal:
        leg.record.log("whisper-rejected")
        return False
    return finished and not leg.gone.is_set()


async def _dial_queue(
    w: Walker, noun: Noun, doc: Document, timeout_s: int, time_limit: int
) -> DialOutcome:
    engine, live = w.engine, w.live
    queue = engine.queues.get(noun.target)
    member = await queue.take(w.line, timeout_s)
    if member is None:
        return DialOutcome("no-answer", extra={"QueueSid": queue.sid})
    url = w.resolve(noun.attrs["url"], doc) if noun.attrs.get("url") else None
    offer = member.make_offer(live, url, noun.attrs.get("method", "POST"))
    try:
        ready = await until_gone(offer.ready.wait(), member.live, live)
        if not ready:
            return DialOutcome("no-answer", member.live.sid, extra={"QueueSid": queue.sid})
        assert w.line is not None
        started = w.line.media_ms
        await bridge(engine, live, member.live, time_limit, ended=offer.ended)
        duration = round((w.line.media_ms - started) / 1000)
        return DialOutcome("completed", member.live.sid, duration, {"QueueSid": queue.sid})
    finally:
        offer.ended.set()
