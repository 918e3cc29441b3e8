"""Liveness, readiness and the per-request middleware (request ids, webhook latency).

``/healthz`` answers 200 while the event loop runs: a load balancer or an
orchestrator restarts the process only when it stops answering at all.
``/readyz`` says whether this replica should get new traffic: the store
answers, the speech model is loaded (or the service runs keypad-only), and
the replica is not draining. Otherwise 503 with the failing checks named.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from aiohttp import web

from ivr import metrics
from ivr.keys import ENGINE, LIVE_CALLS, OPS, VOICE
from ivr.logs import ids_bound
from ivr.store.db import ping

log = structlog.get_logger(__name__)

STORE_CHECK_TIMEOUT_S = 2.0
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_WEBHOOK_ROUTES = {"/twilio/voice", "/twilio/status", "/twilio/amd"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class OpsState:
    """What readiness needs that is not a resource: the mode and the drain flag."""

    keypad_only: bool = False
    draining: bool = False


@web.middleware
async def observe_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bind a request id to every line of this request; time carrier webhooks."""
    given = request.headers.get("X-Request-Id", "")
    request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex[:16]
    started = time.perf_counter()
    with ids_bound(request_id=request_id):
        try:
            response = await handler(request)
        finally:
            path = request.path
            if path in _WEBHOOK_ROUTES or path.startswith("/agents/"):
                route = path if path in _WEBHOOK_ROUTES else "/agents"
                metrics.WEBHOOK_SECONDS.labels(route).observe(time.perf_counter() - started)
    if not response.prepared:
        response.headers["X-Request-Id"] = request_id
    return response


async def healthz(request: web.Request) -> web.Response:
    live = request.app[LIVE_CALLS]
    return web.json_response(
        {
            "ok": True,
            "live_calls": len(live),
            "call_store_write_failures": live.store_write_failures,
        }
    )


async def _store_check(app: web.Application) -> str:
    engine = app.get(ENGINE)
    if engine is None:
        return "not open"
    try:
        async with asyncio.timeout(STORE_CHECK_TIMEOUT_S):
            await ping(engine)
    except TimeoutError:
        return f"no answer within {STORE_CHECK_TIMEOUT_S:g} s"
    except Exception as exc:
        return f"unreachable ({type(exc).__name__})"
    return "ok"


def _model_check(app: web.Application) -> str:
    voice = app.get(VOICE)
    if voice is None:
        return "not loaded"
    if voice.asr is None and not app[OPS].keypad_only:
        return "speech model not loaded"
    return "ok" if voice.asr is not None else "ok (keypad only)"


async def readyz(request: web.Request) -> web.Response:
    app = request.app
    checks = {
        "store": await _store_check(app),
        "model": _model_check(app),
        "draining": "yes" if app[OPS].draining else "no",
    }
    failed = [n for n in ("store", "model") if not checks[n].startswith("ok")]
    if app[OPS].draining:
        failed.append("draining")
    body = {"ready": not failed, "failed": failed, "checks": checks}
    return web.json_response(body, status=503 if failed else 200)


def setup_ops(app: web.Application, *, keypad_only: bool) -> None:
    """Routes and state for operations: health, readiness, metrics."""
    app[OPS] = OpsState(keypad_only=keypad_only)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics.metrics_handler)
