"""Prometheus metrics: every instrument in one place, cheap on the hot paths.

Counters and histograms are updated where things happen (one call each, no
lock beyond prometheus-client's own); what is a *state* rather than an
event (agents by presence, transfers waiting in the queue, attempts by
status) is read from the store when ``/metrics`` is scraped, so the
numbers agree across replicas and cost nothing between scrapes.

``/metrics`` needs ``Authorization: Bearer <IVR_METRICS_TOKEN>`` (or
``?token=``); with no token configured it answers 404, a wrong token 403.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import func, select

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = structlog.get_logger(__name__)

_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_TURN = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.0, 5.0)
_WAIT = (1, 5, 10, 30, 60, 120, 300, 600)

CALLS = Counter("ivr_calls_total", "Calls that reached a final carrier status", ["status"])
CALL_OUTCOMES = Counter("ivr_call_outcomes_total", "Answered calls by dialog outcome", ["outcome"])
CLAIMS = Counter("ivr_claims_total", "Attempts claimed by this replica's planner")
CLAIMS_RELEASED = Counter("ivr_claims_released_total", "Claims given back unplaced on drain")
TICK_SECONDS = Histogram("ivr_tick_seconds", "Duration of one planner tick", buckets=_FAST)
WEBHOOK_SECONDS = Histogram(
    "ivr_webhook_seconds", "Carrier webhook handling time", ["route"], buckets=_FAST
)
TURN_SECONDS = Histogram(
    "ivr_turn_latency_seconds", "End of caller input to the reply's first frame", buckets=_TURN
)
RECOGNIZER_LAG = Histogram(
    "ivr_recognizer_lag_seconds",
    "Caller audio waiting for the recognizer when it takes the next chunk",
    buckets=(0.02, 0.04, 0.06, 0.1, 0.2, 0.5, 1.0, 2.0),
)
PROMPT_CACHE = Counter(
    "ivr_prompt_cache_total",
    "Prompt renders by cache result and kind (common to every call, or personal to one)",
    ["result", "kind"],
)
QUEUE_WAIT = Histogram(
    "ivr_queue_wait_seconds", "Time a transferred caller waited for an agent", buckets=_WAIT
)
IMPORT_ROWS = Counter("ivr_import_rows_total", "Debtor rows imported", ["result"])
LIVE_CALLS = Gauge("ivr_live_calls", "Media streams open on this replica")
DRAINING = Gauge("ivr_draining", "1 while this replica drains before exiting")
# Read from the store at scrape time.
ATTEMPTS = Gauge("ivr_attempts", "Attempts not yet final, by status (all replicas)", ["status"])
QUEUE_LENGTH = Gauge("ivr_queue_length", "Transfers waiting in the agent queue (all replicas)")
AGENTS = Gauge("ivr_agents", "Agents by presence (all replicas)", ["presence"])


def tick_done(seconds: float, claimed: int) -> None:
    TICK_SECONDS.observe(seconds)
    if claimed:
        CLAIMS.inc(claimed)


def import_rows(inserted: int, updated: int, rejected: int) -> None:
    IMPORT_ROWS.labels("inserted").inc(inserted)
    IMPORT_ROWS.labels("updated").inc(updated)
    IMPORT_ROWS.labels("rejected").inc(rejected)


def prompt_cache(hit: bool, personal: bool = False) -> None:
    PROMPT_CACHE.labels("hit" if hit else "miss", "personal" if personal else "common").inc()


async def refresh_from_store(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Set the state gauges from the store (three small grouped counts)."""
    from ivr.store.models import (
        LIVE_ATTEMPT_STATUSES,
        Agent,
        AttemptStatus,
        CallAttempt,
        Presence,
        Transfer,
    )

    live = sorted(s.value for s in LIVE_ATTEMPT_STATUSES)
    async with sessions() as s:
        by_status: dict[str, int] = {
            str(k): int(n)
            for k, n in (
                await s.execute(
                    select(CallAttempt.status, func.count())
                    .where(CallAttempt.status.in_(live))
                    .group_by(CallAttempt.status)
                )
            ).all()
        }
        queued = int(await s.scalar(select(func.count()).where(Transfer.status == "queued")) or 0)
        presence: dict[str, int] = {
            str(k): int(n)
            for k, n in (
                await s.execute(select(Agent.presence, func.count()).group_by(Agent.presence))
            ).all()
        }
    for st in live:
        ATTEMPTS.labels(st).set(by_status.get(st, by_status.get(str(AttemptStatus(st)), 0)))
    QUEUE_LENGTH.set(queued)
    for p in Presence:
        AGENTS.labels(p.value).set(presence.get(p.value, presence.get(str(p), 0)))


def _token_ok(request: web.Request, expected: str) -> bool:
    header = request.headers.get("Authorization", "")
    given = header[7:] if header.lower().startswith("bearer ") else request.query.get("token", "")
    return hmac.compare_digest(given.encode(), expected.encode())


async def metrics_handler(request: web.Request) -> web.Response:
    from ivr.keys import LIVE_CALLS as LIVE_KEY
    from ivr.keys import SESSIONS, SETTINGS

    expected = request.app[SETTINGS].metrics_token
    if not expected:
        raise web.HTTPNotFound(text="metrics are off: set IVR_METRICS_TOKEN")
    if not _token_ok(request, expected):
        raise web.HTTPForbidden(text="wrong or missing metrics token")
    LIVE_CALLS.set(len(request.app[LIVE_KEY]))
    sessions: Any = request.app.get(SESSIONS)
    if sessions is not None:
        try:
            await refresh_from_store(sessions)
        except Exception as exc:  # the store is down: the event counters still matter
            log.warning("metrics.store_unreachable", error=type(exc).__name__)
    body = generate_latest(REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
