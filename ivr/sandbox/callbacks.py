"""Status callbacks of one call, in the order (or disorder) the test asked for.

Each requested call-progress event becomes one signed form POST with
``SequenceNumber`` counting from 0 per call. By default they go out one at a
time in event order; :class:`~ivr.sandbox.callee.CallbackFaults` can hold them
until the call's last event and deliver them reversed or shuffled, and can
send each one twice (what a retry looks like to the service).
"""

from __future__ import annotations

import asyncio
import contextlib
import random

from ivr.sandbox.callee import CallbackFaults
from ivr.sandbox.records import SandboxCall
from ivr.sandbox.webhooks import SignedPoster


class CallbackDispatcher:
    """Delivers one call's status callbacks."""

    def __init__(self, poster: SignedPoster, record: SandboxCall, faults: CallbackFaults) -> None:
        self.poster = poster
        self.record = record
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._sequence = 0
        self._held: list[dict[str, str]] = []
        self._queue: asyncio.Queue[dict[str, str] | None] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    def wants(self, event: str) -> bool:
        return bool(self.record.status_callback) and event in self.record.status_callback_events

    def emit(self, event: str, params: dict[str, str]) -> None:
        """Queue the callback for ``event`` if the call asked for it."""
        if not self.wants(event):
            return
        if not self.faults.omit_sequence:
            params = dict(params, SequenceNumber=str(self._sequence))
        self._sequence += 1
        if self.faults.order == "in-order":
            self._enqueue(params)
        else:
            self._held.append(params)

    def _enqueue(self, params: dict[str, str]) -> None:
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name=f"callbacks-{self.record.sid}")
        self._queue.put_nowait(params)
        if self.faults.duplicate:
            self._queue.put_nowait(dict(params))

    async def _run(self) -> None:
        while True:
            params = await self._queue.get()
            if params is None:
                return
            assert self.record.status_callback is not None
            await self.poster.send(
                "status",
                self.record.status_callback,
                params,
                self.record.status_callback_method,
                self.record.callbacks,
            )

    async def flush(self) -> None:
        """Deliver everything still held or queued; returns when all were sent."""
        held, self._held = self._held, []
        if self.faults.order == "reverse":
            held.reverse()
        elif self.faults.order == "shuffle" and len(held) > 1:
            original = list(held)
            while held == original:
                self._rng.shuffle(held)
        for params in held:
            self._enqueue(params)
        if self._worker is None:
            return
        self._queue.put_nowait(None)
        await self._worker
        self._worker = None

    async def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
