"""The Media Streams WebSocket endpoint: from an aiohttp request to a live call.

The call itself (:class:`~ivr.calls.session.CallSession`) knows nothing of
the aiohttp application; this is where the app's shared resources (store,
voice, transfers, payment details by SMS, the live-call registry, stream tokens, settings) are
handed to it, so that the call can be built from fakes in tests.
"""

from __future__ import annotations

from aiohttp import web

from ivr.calls.session import CallSession
from ivr.keys import (
    LIVE_CALLS,
    PAYMENT_DETAILS,
    SESSIONS,
    SETTINGS,
    STREAM_TOKENS,
    TRANSFERS,
    VOICE,
)

MAX_MESSAGE_BYTES = 1 << 20
HEARTBEAT_S = 30


async def run_media_socket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    app = request.app
    session = CallSession(
        ws,
        app[SESSIONS],
        app[VOICE],
        transfers=app.get(TRANSFERS),
        live=app[LIVE_CALLS],
        callback_numbers=app[SETTINGS].callback_numbers(),
        tokens=app[STREAM_TOKENS],
        start_timeout_s=app[SETTINGS].stream_start_timeout_seconds,
        payment_details=app.get(PAYMENT_DETAILS),
    )
    await session.run()
    return ws
