"""Typed application keys: every shared resource of the aiohttp app, in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ivr.config import Settings
from ivr.telephony.rest import TwilioCalls
from ivr.telephony.signature import SignatureChecker
from ivr.telephony.stream_token import StreamTokens

if TYPE_CHECKING:
    from ivr.calls.live import LiveCalls
    from ivr.calls.ports import PaymentDetailsPort, TransferPort
    from ivr.calls.voice import VoiceStack
    from ivr.web.health import OpsState
    from scheduler.planner import Scheduler

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
# PostgreSQL only: autocommit connections for carrier status callbacks, which
# do not wait for the WAL flush (see ivr.store.db.make_callback_engine).
CALLBACK_ENGINE: web.AppKey[AsyncEngine | None] = web.AppKey("callback_engine")
SIGNATURES = web.AppKey("signatures", SignatureChecker)
STREAM_TOKENS = web.AppKey("stream_tokens", StreamTokens)
CARRIER = web.AppKey("carrier", TwilioCalls)
VOICE: web.AppKey[VoiceStack] = web.AppKey("voice")
LIVE_CALLS: web.AppKey[LiveCalls] = web.AppKey("live_calls")
TRANSFERS: web.AppKey[TransferPort] = web.AppKey("transfers")
PAYMENT_DETAILS: web.AppKey[PaymentDetailsPort] = web.AppKey("payment_details")
OPS: web.AppKey[OpsState] = web.AppKey("ops")
SCHEDULER: web.AppKey[Scheduler] = web.AppKey("scheduler")
