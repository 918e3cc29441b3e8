"""How the agents package plugs into the service: one cleanup context, one route setup.

``create_app`` does::

    app.cleanup_ctx.append(agents_context)   # after the database and carrier contexts
    setup_agent_routes(app)

The context builds the event hub (and its LISTEN connection on PostgreSQL),
sets ``app[TRANSFERS]`` to the :class:`~ivr.agents.transfers.TransferService`
the call sessions use, and runs the background tick (wrap-ups, queue
dispatch, abandoned transfers) until the app stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from ivr.agents.api import setup_api_routes
from ivr.agents.callbacks_http import setup_carrier_callbacks
from ivr.agents.hub import AgentHub
from ivr.agents.keys import AGENT_HUB, TRANSFER_SERVICE
from ivr.agents.transfers import TransferService
from ivr.keys import CARRIER, ENGINE, SESSIONS, SETTINGS, TRANSFERS

log = structlog.get_logger(__name__)

TICK_SECONDS = 1.0


async def agents_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    hub = AgentHub(app[ENGINE], settings.database_url)
    await hub.start()
    service = TransferService(settings, app[SESSIONS], lambda: app[CARRIER], hub)
    app[AGENT_HUB] = hub
    app[TRANSFER_SERVICE] = service
    app[TRANSFERS] = service
    ticker = asyncio.create_task(_tick_forever(service), name="agents-tick")
    try:
        yield
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        await hub.stop()


async def _tick_forever(service: TransferService) -> None:
    while True:
        try:
            await service.tick()
        except asyncio.CancelledError:
            raise
        except Exception:  # one bad round must not stop wrap-ups and the queue for good
            log.exception("agents.tick_failed")
        await asyncio.sleep(TICK_SECONDS)


def setup_agent_routes(app: web.Application) -> None:
    from ivr.web.desktop import setup_desktop_routes

    setup_carrier_callbacks(app)
    setup_api_routes(app)
    setup_desktop_routes(app)
