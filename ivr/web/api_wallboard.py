"""``GET /api/v1/wallboard`` (one snapshot) and ``/api/v1/wallboard/stream`` (live).

Supervisors only. The snapshot is built afresh for every ``GET``; the stream
shares its replica's snapshot among every viewer (``ivr.web.wallboard_live``).
"""

from __future__ import annotations

from aiohttp import web

from ivr.keys import SESSIONS
from ivr.store.models import utcnow
from ivr.web.api_common import API_PREFIX, Endpoint, reply
from ivr.web.api_wallboard_schemas import WallboardOut
from ivr.web.wallboard_live import stream
from ivr.web.wallboard_snapshot import build_snapshot


async def get_wallboard(request: web.Request) -> web.Response:
    """Calls in progress, campaigns today and their dialers, agents, the queue."""
    async with request.app[SESSIONS]() as s:
        return reply(await build_snapshot(s, utcnow()))


async def wallboard_stream(request: web.Request) -> web.StreamResponse:
    """The same snapshot as Server-Sent Events, sent again after every change."""
    return await stream(request)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        f"{API_PREFIX}/wallboard",
        get_wallboard,
        "The wallboard: calls, campaigns and dialers, agents, queue, today",
        tag="wallboard",
        response=WallboardOut,
    ),
    Endpoint(
        "GET",
        f"{API_PREFIX}/wallboard/stream",
        wallboard_stream,
        "The live wallboard (text/event-stream: 'snapshot' events, 'end' when signed out)",
        tag="wallboard",
        errors=(406, 429, 503),
    ),
)
