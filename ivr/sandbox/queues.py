"""``<Enqueue>`` and the call queues a ``<Dial><Queue>`` takes callers from.

A caller in a queue loops on its ``waitUrl``: the sandbox requests it with
``QueuePosition``, ``QueueSid``, ``QueueTime``, ``AvgQueueTime``,
``CurrentQueueSize`` and ``MaxQueueSize``, runs the returned document (hold
prompts; ``<Leave>`` leaves the queue) and requests it again when it ends.
When another call dials the queue, the first waiting caller is taken: its wait
document stops, the ``url`` of the dialer's ``<Queue>`` noun runs for it, and
both are bridged. When the bridge ends, the enqueue ``action`` gets
``QueueResult`` (``bridged``, ``leave``, ``queue-full``) and ``QueueTime``,
and the caller's TwiML continues from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ivr.sandbox.line import Line
from ivr.sandbox.twiml import Document, HangupSignal, LeaveSignal, Walker, text_of

if TYPE_CHECKING:
    from ivr.sandbox.legs import LiveCall

HOLD_MUSIC_MS = 10_000


@dataclass
class BridgeOffer:
    """A dialer taking a queued caller: ``ready`` once the caller heard the url, ``ended`` after."""

    dialer: LiveCall
    url: str | None
    method: str
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class QueueMember:
    live: LiveCall
    queue: CallQueue
    enqueued_ms: int
    offer: BridgeOffer | None = None
    offered: asyncio.Event = field(default_factory=asyncio.Event)

    def queue_time_s(self) -> int:
        line = self.live.line
        return 0 if line is None else (line.media_ms - self.enqueued_ms) // 1000

    def make_offer(self, dialer: LiveCall, url: str | None, method: str) -> BridgeOffer:
        self.offer = BridgeOffer(dialer, url, method)
        self.offered.set()
        return self.offer

    def leave(self) -> None:
        self.queue.remove(self)


class CallQueue:
    """One named queue (``QU`` sid), first in first out."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sid = "QU" + secrets.token_hex(16)
        self.max_size = 100
        self.members: list[QueueMember] = []
        self._waits: list[int] = []

    def add(self, live: LiveCall) -> QueueMember:
        assert live.line is not None
        member = QueueMember(live, self, live.line.media_ms)
        self.members.append(member)
        return member

    def remove(self, member: QueueMember) -> None:
        if member in self.members:
            self.members.remove(member)
            self._waits.append(member.queue_time_s())

    def position(self, member: QueueMember) -> int:
        return self.members.index(member) + 1 if member in self.members else 0

    @property
    def avg_wait_s(self) -> int:
        return sum(self._waits) // len(self._waits) if self._waits else 0

    def first_waiting(self) -> QueueMember | None:
        for member in self.members:
            if member.offer is None and not member.live.gone.is_set():
                return member
        return None

    async def take(self, line: Line, timeout_s: float) -> QueueMember | None:
        """The first caller not yet taken, waiting up to ``timeout_s`` of the dialer's time."""
        await line.wait_until(lambda: self.first_waiting() is not None, timeout_s)
        member = self.first_waiting()
        if member is not None:
            self.remove(member)
        return member


class QueueRegistry:
    def __init__(self) -> None:
        self.queues: dict[str, CallQueue] = {}

    def get(self, name: str) -> CallQueue:
        if name not in self.queues:
            self.queues[name] = CallQueue(name)
        return self.queues[name]


async def _wait_loop(
    w: Walker, member: QueueMember, wait_url: str | None, wait_method: str, doc: Document
) -> None:
    line, queue = w.line, member.queue
    while True:
        started = line.media_ms
        if wait_url:
            params = {
                "QueuePosition": str(queue.position(member)),
                "QueueSid": queue.sid,
                "QueueTime": str(member.queue_time_s()),
                "AvgQueueTime": str(queue.avg_wait_s),
                "CurrentQueueSize": str(len(queue.members)),
                "MaxQueueSize": str(queue.max_size),
            }
            target = w.resolve(wait_url, doc)
            assert target is not None
            try:
                wait_doc = await w.fetch("wait", target, wait_method, params)
            except HangupSignal:
                wait_doc = None
            if wait_doc is not None:
                await Walker(w.engine, w.live).run(wait_doc)
        else:
            await line.play_clip(HOLD_MUSIC_MS)
        if line.media_ms - started < 1000:
            await line.sleep(1.0)  # an empty wait document must not spin


async def run_enqueue(w: Walker, el: ET.Element, doc: Document) -> Document | None:
    live, line = w.live, w.line
    queue = w.engine.queues.get(text_of(el))
    with contextlib.suppress(ValueError):
        queue.max_size = int(el.get("maxQueueSize", str(queue.max_size)))
    member: QueueMember | None = None
    queue_time = 0
    if len(queue.members) >= queue.max_size:
        result = "queue-full"
    else:
        member = queue.add(live)
        live.queue_member = member
        live.record.log("enqueued", queue=queue.name, position=queue.position(member))
        result = await _wait_in_queue(w, member, el, doc)
        queue_time = member.queue_time_s()
    live.record.log("dequeued", queue=queue.name, result=result)
    line.stop_clips()
    action = el.get("action")
    if not action:
        return None
    params = {"QueueResult": result, "QueueSid": queue.sid, "QueueTime": str(queue_time)}
    target = w.resolve(action, doc)
    assert target is not None
    return await w.fetch("action", target, el.get("method", "POST"), params)


async def _wait_in_queue(w: Walker, member: QueueMember, el: ET.Element, doc: Document) -> str:
    live, line = w.live, w.line
    wait_url = el.get("waitUrl")
    waiting = asyncio.create_task(
        _wait_loop(w, member, wait_url, el.get("waitUrlMethod", "POST"), doc)
    )
    offered = asyncio.create_task(member.offered.wait())
    try:
        done, _ = await asyncio.wait({waiting, offered}, return_when=asyncio.FIRST_COMPLETED)
        if offered not in done:
            exc = waiting.exception()
            if isinstance(exc, LeaveSignal):
                return "leave"
            if exc is not None:
                raise exc
            return "error"
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await waiting
        line.stop_clips()
        member.leave()
        offer = member.offer
        assert offer is not None
        if offer.url:
            whisper = await w.fetch("whisper", offer.url, offer.method)
            await Walker(w.engine, live).run(whisper)
        offer.ready.set()
        await offer.ended.wait()
        return "bridged"
    finally:
        offered.cancel()
        if not waiting.done():
            waiting.cancel()
        member.leave()
        live.queue_member = None
        if member.offer is not None:
            member.offer.ended.set()
