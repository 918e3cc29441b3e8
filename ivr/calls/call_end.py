"""What a call's end waits for: speech may be cut, the call's writes may not.

When the caller hangs up (or the line drops), the dialog may still be busy:
saying something nobody hears any more, waiting for an agent's answer, or
waiting for the store to take what the caller said last (an opt-out, a
promise, the person verified, an answer in the turn log). Speech and
waiting are cut after ``DIALOG_END_WAIT_S``; a wait for the store is not,
because cutting it would lose what the caller asked for when the store is
merely slow (a pool exhausted, an import holding SQLite's write lock). It is
bounded by the generous ``WRITES_END_LIMIT_S`` instead, and the session
logs and counts a write still unfinished then (never a silent loss).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")

DIALOG_END_WAIT_S = 10.0
"""Once the call has ended, how long speech or waiting under way may keep the dialog."""
WRITES_END_LIMIT_S = 150.0
"""Once the call has ended, how long its writes may wait for a busy store. Longer
than a write's own retries (four tries of up to SQLite's 30 s busy timeout), so
a store that refuses is normally reported by those first."""
STORE_POLL_S = 0.1


class StoreWaits:
    """Counts the dialog's waits for the store, so the call's end tells them from speech."""

    def __init__(self) -> None:
        self.n = 0

    async def __call__(self, aw: Awaitable[T]) -> T:
        """Await a read or write of the store: the call's end waits for it."""
        self.n += 1
        try:
            return await aw
        finally:
            self.n -= 1


async def finish_dialog(task: asyncio.Task[None], store: StoreWaits, deadline: float) -> bool:
    """Let the dialog handle what the call's end left it; False when it was
    still waiting for the store at ``deadline`` (loop time) and was cut."""
    loop = asyncio.get_running_loop()
    await asyncio.wait({task}, timeout=DIALOG_END_WAIT_S)
    while not task.done() and store.n and loop.time() < deadline:
        await asyncio.wait({task}, timeout=min(STORE_POLL_S, deadline - loop.time()))
    if task.done():
        return True
    storing = store.n > 0
    task.cancel()
    await asyncio.wait({task})
    return not storing
