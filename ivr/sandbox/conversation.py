"""Running a leg's TwiML: one document after another, REST redirects in between.

The engine (ivr/sandbox/engine.py) decides when a leg talks; this module is
the talking: fetch or parse the document, hand it to the TwiML walker
(ivr/sandbox/twiml.py), and when a REST update redirects the call, stop the
running document (and whatever audio it plays) and start the new one. Apart
from the engine because it is the one piece that knows the walker.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from ivr.sandbox.legs import DocSource, LiveCall
from ivr.sandbox.twiml import Document, HangupSignal, LeaveSignal, TwimlError, Walker, parse_twiml

if TYPE_CHECKING:
    from ivr.sandbox.engine import Engine

ERROR_APPLICATION = 11200


async def converse(engine: Engine, live: LiveCall, source: DocSource) -> None:
    """Run TwiML until it ends, following REST redirects; returns when the call must end."""
    while not live.gone.is_set():
        task = asyncio.create_task(_run_source(engine, live, source))
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


async def _run_source(engine: Engine, live: LiveCall, source: DocSource) -> None:
    walker = Walker(engine, live)
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
