"""``ivr serve``'s lifetime: listen, and on SIGTERM drain before exiting.

aiohttp's own shutdown closes the listening socket first; a live call still
needs it (status callbacks, the media socket of a call that is ringing,
agent webhooks), so draining happens *before* that:

1. ``/readyz`` turns 503: the load balancer sends new work elsewhere;
2. the planner stops claiming; dials waiting for their turn give their claim
   back (deleted, the person due again: any replica's next tick takes them);
3. calls this replica placed, and media streams it holds, run to their end,
   for at most ``IVR_DRAIN_TIMEOUT_SECONDS``;
4. then the usual clean-up (scheduler, carrier client, database) and exit 0.

A second SIGTERM or Ctrl-C skips the wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time

import structlog
from aiohttp import web

from ivr import metrics
from ivr.keys import LIVE_CALLS, OPS, SCHEDULER, SESSIONS
from ivr.store.models import utcnow
from scheduler.release import placed_live_calls, release_unplaced

log = structlog.get_logger(__name__)

POLL_S = 0.25


async def drain(app: web.Application, timeout_s: float, hurry: asyncio.Event | None = None) -> bool:
    """Stop taking work and wait for live calls; True if everything ended in time."""
    hurry = hurry or asyncio.Event()
    deadline = time.monotonic() + timeout_s
    app[OPS].draining = True
    metrics.DRAINING.set(1)
    sched = app.get(SCHEDULER)
    worker = sched.worker_id if sched is not None else None
    log.info("service.draining", timeout_s=timeout_s, live_calls=len(app[LIVE_CALLS]))
    if sched is not None:
        await sched.stop_claiming()
        # Dials already sending finish; those waiting for their turn return at once.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sched.drain(), max(0.0, deadline - time.monotonic()))
        released = await release_unplaced(app[SESSIONS], sched.worker_id, utcnow())
        if released:
            metrics.CLAIMS_RELEASED.inc(released)
            log.info("service.claims_released", n=released)
    placed = 0
    while not hurry.is_set():
        placed = await placed_live_calls(app[SESSIONS], worker) if worker else 0
        streams = len(app[LIVE_CALLS])
        if placed == 0 and streams == 0:
            log.info("service.drained")
            return True
        if time.monotonic() >= deadline:
            log.warning("service.drain_timeout", placed_calls=placed, streams=streams)
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hurry.wait(), POLL_S)
    log.warning("service.drain_cut_short", placed_calls=placed, streams=len(app[LIVE_CALLS]))
    return False


async def serve(
    app: web.Application,
    host: str,
    port: int,
    *,
    drain_timeout_s: float,
    access_log: logging.Logger | None = None,
) -> None:
    """Run ``app`` until SIGTERM or SIGINT, drain, clean up."""
    runner = web.AppRunner(app, handle_signals=False, access_log=access_log)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, shutdown_timeout=5.0)
        await site.start()
        log.info("service.listening", host=host, port=port)
        stop, hurry = asyncio.Event(), asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal() -> None:
            (hurry if stop.is_set() else stop).set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal)
        await stop.wait()
        await drain(app, drain_timeout_s, hurry)
    finally:
        await runner.cleanup()
        log.info("service.stopped")
