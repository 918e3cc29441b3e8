"""``create_app(settings)``: the one place the service is wired together.

Resources open and close in ``cleanup_ctx`` in dependency order: database,
carrier client, voice engines, then background work (the dialer) that uses
them all and is cancelled first on exit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import structlog
from aiohttp import web

from ivr.agents.wiring import agents_context, setup_agent_routes
from ivr.calls.live import LiveCalls
from ivr.calls.voice import VoiceStack, build_voice_stack
from ivr.config import Settings
from ivr.keys import (
    CALLBACK_ENGINE,
    CARRIER,
    ENGINE,
    LIVE_CALLS,
    PAYMENT_DETAILS,
    SESSIONS,
    SETTINGS,
    SIGNATURES,
    STREAM_TOKENS,
    VOICE,
)
from ivr.messaging.payment_sms import PaymentDetailsSms
from ivr.store.db import make_callback_engine, make_engine, make_sessionmaker
from ivr.telephony.rest import TwilioCalls
from ivr.telephony.signature import SignatureChecker
from ivr.telephony.stream_token import StreamTokens
from ivr.web.api import setup_api
from ivr.web.console import setup_console_routes
from ivr.web.health import observe_requests, setup_ops
from ivr.web.security import install_security
from ivr.web.twilio_hooks import setup_twilio_routes
from ivr.web.wallboard_live import setup_wallboard

log = structlog.get_logger(__name__)

Ctx = Callable[[web.Application], AsyncIterator[None]]


@dataclass(frozen=True)
class AppOptions:
    """Choices that are not settings: what a test or the demo leaves out or shares."""

    voice: VoiceStack | None = None  # a stack shared across apps (tests, demo)
    keypad_only: bool = False  # serve without a speech model
    scheduler: bool | None = None  # None: follow IVR_SCHEDULER_ENABLED


def create_app(settings: Settings, options: AppOptions | None = None) -> web.Application:
    options = options or AppOptions()
    settings.require("public_url", "twilio_account_sid", "twilio_auth_token", "twilio_from_number")
    assert settings.public_url and settings.twilio_auth_token
    for name in settings.missing_callback_numbers():
        # Not fatal: a service calling one country needs no other's number.
        log.warning("settings.no_callback_number", setting=name, says="the number of this call")
    app = web.Application(middlewares=[observe_requests])
    install_security(app)
    app[SETTINGS] = settings
    app[SIGNATURES] = SignatureChecker(settings.twilio_auth_token, settings.public_url)
    app[STREAM_TOKENS] = StreamTokens(settings.secret_key, settings.twilio_auth_token)
    app[LIVE_CALLS] = LiveCalls()
    # Voice first: a missing model or voice fails start-up before anything opens.
    app.cleanup_ctx.append(_voice(options))
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_carrier)
    app.cleanup_ctx.append(agents_context)
    setup_wallboard(app)  # hears the agents' hub
    scheduler_on = settings.scheduler_enabled if options.scheduler is None else options.scheduler
    if scheduler_on:
        from ivr.calls.dialer import scheduler_context

        app.cleanup_ctx.append(scheduler_context)
    setup_twilio_routes(app)
    setup_api(app)
    setup_agent_routes(app)
    setup_console_routes(app)
    setup_ops(app, keypad_only=options.keypad_only)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    engine = make_engine(
        settings.database_url,
        **(
            {"pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow}
            if settings.database_url.startswith("postgresql")
            else {}
        ),
    )
    app[ENGINE] = engine
    app[SESSIONS] = make_sessionmaker(engine)
    # A callback holds its connection for one statement: a fifth of the pool will do.
    callbacks = make_callback_engine(
        settings.database_url,
        pool_size=max(1, settings.db_pool_size // 5),
        max_overflow=settings.db_max_overflow // 5,
    )
    app[CALLBACK_ENGINE] = callbacks
    yield
    if callbacks is not None:
        await callbacks.dispose()
    await engine.dispose()


async def _carrier(app: web.Application) -> AsyncIterator[None]:
    s = app[SETTINGS]
    assert s.twilio_account_sid and s.twilio_auth_token
    carrier = TwilioCalls(s.twilio_account_sid, s.twilio_auth_token, api_url=s.twilio_api_url)
    app[CARRIER] = carrier
    # Payment details the caller agreed to get by SMS (ivr.messaging.payment_sms).
    assert s.public_url
    app[PAYMENT_DETAILS] = PaymentDetailsSms(
        app[SESSIONS], carrier, s.public_url, s.callback_numbers()
    )
    yield
    await carrier.close()


def _voice(options: AppOptions) -> Ctx:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if options.voice is not None:
            app[VOICE] = options.voice
            yield
            return
        stack = await build_voice_stack(app[SETTINGS], keypad_only=options.keypad_only)
        app[VOICE] = stack
        yield
        await stack.close()

    return ctx
