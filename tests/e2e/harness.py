"""Run the real service and the sandbox carrier together on loopback ports.

The service is told its public URL is ``https://ivr.test`` (as behind a TLS
proxy); the sandbox signs every request over that URL and delivers it to the
port the service really listens on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.app import AppOptions, create_app
from ivr.calls.one_call import place_one_call
from ivr.config import Settings
from ivr.keys import SESSIONS
from ivr.sandbox.app import Sandbox
from ivr.sandbox.callee import CalleeScript
from ivr.sandbox.records import SandboxCall
from ivr.store.importer import import_debtors
from ivr.store.models import CallAttempt, CallEvent, Promise, utcnow
from ivr.web.sms_hooks import SMS_INBOUND_PATH
from scheduler.manual import next_legal_instant

PUBLIC = "https://ivr.test"
FROM_NUMBER = "+551130000000"
CSV_HEADER = "external_ref,name,phone,amount,due_date,creditor,locale,region,timezone,birth_year\n"


@dataclass
class Service:
    app: web.Application
    runner: web.AppRunner
    port: int
    settings: Settings

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.app[SESSIONS]


def service_settings(db_url: str, sandbox: Sandbox, cache_dir: Path, **overrides: Any) -> Settings:
    """The service's settings with ``sandbox`` as its carrier and no scheduler."""
    return Settings(
        database_url=db_url,
        public_url=PUBLIC,
        twilio_account_sid=sandbox.account_sid,
        twilio_auth_token=sandbox.auth_token,
        twilio_from_number=FROM_NUMBER,
        twilio_api_url=sandbox.url,
        cache_dir=cache_dir,
        scheduler_enabled=False,
        **overrides,
    )


async def serve_on_loopback(app: web.Application) -> tuple[web.AppRunner, int]:
    """Start ``app`` on a free loopback port; the caller cleans the runner up."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, port


@contextlib.asynccontextmanager
async def running_service(
    db_url: str,
    sandbox: Sandbox,
    cache_dir: Path,
    *,
    options: AppOptions | None = None,
    **overrides: object,
) -> AsyncIterator[Service]:
    settings = service_settings(db_url, sandbox, cache_dir, **overrides)
    app = create_app(settings, options or AppOptions(keypad_only=True))
    runner, port = await serve_on_loopback(app)
    sandbox.config.rewrite_base[PUBLIC] = f"http://127.0.0.1:{port}"
    # The number's Messaging URL: an SMS a debtor writes to it reaches the service, signed.
    sandbox.config.sms.set_messaging_url(FROM_NUMBER, f"{PUBLIC}{SMS_INBOUND_PATH}")
    try:
        yield Service(app, runner, port, settings)
    finally:
        await runner.cleanup()


async def import_rows(service: Service, tmp_path: Path, rows: list[str]) -> None:
    path = tmp_path / "portfolio.csv"
    path.write_text(CSV_HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    report = await import_debtors(service.sessions, path)
    assert report.errors == [], report.errors


@dataclass
class InboundCall:
    """A call a person placed to the service, as the carrier and the store saw it."""

    call: SandboxCall
    attempt: CallAttempt
    events: list[CallEvent]
    promise: Promise | None

    @property
    def prompts(self) -> list[str]:
        """The prompt ids the service played, in order."""
        return [e.data["prompt_id"] for e in self.events if e.kind == "prompt"]

    @property
    def said(self) -> str:
        """Everything the service said, as one text."""
        return " ".join(e.data["text"] for e in self.events if e.kind == "prompt")


async def call_in(
    sb: Sandbox, service: Any, script: CalleeScript, caller: str, *, limit_s: float = 120
) -> InboundCall:
    """``caller`` dials the service's number and follows ``script`` until the call ends.

    ``service``: anything with ``sessions`` (the running service's store).
    """
    call = sb.start_inbound_call(
        from_=caller,
        to=FROM_NUMBER,
        url=f"{PUBLIC}/twilio/voice",
        script=script,
        status_callback=f"{PUBLIC}/twilio/status",
    )
    ended = await sb.wait_for_call_end(call.sid, timeout=limit_s)
    async with service.sessions() as s:
        attempt = await s.scalar(select(CallAttempt).where(CallAttempt.call_sid == call.sid))
        assert attempt is not None, "the inbound call was not recorded"
        events = (
            await s.scalars(
                select(CallEvent).where(CallEvent.attempt_id == attempt.id).order_by(CallEvent.id)
            )
        ).all()
        promise = await s.scalar(select(Promise).where(Promise.attempt_id == attempt.id))
    return InboundCall(ended, attempt, list(events), promise)


async def callable_instant(
    sessions: async_sessionmaker[AsyncSession], external_ref: str
) -> dt.datetime:
    """Now, if the rule book allows calling this debtor now, else the next instant it does.

    ``ivr call`` refuses outside the legal hours; a test about the call
    itself (not its timing) places it at the first legal instant.
    """
    at = await next_legal_instant(sessions, external_ref, utcnow())
    assert at is not None, f"{external_ref} is not callable at any hour"
    return at


async def place_call(service: Any, external_ref: str) -> str:
    """``ivr call`` for this debtor at the first instant the rules allow (see above).

    ``service``: anything with the running ``app`` and its ``settings``.
    """
    at = await callable_instant(service.app[SESSIONS], external_ref)
    return await place_one_call(service.settings, external_ref, now=at)


SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def simulated_start(now: dt.datetime) -> dt.datetime:
    """10:00 in São Paulo on a Tuesday-Thursday at least two days ahead, not a holiday.

    Tests that run real ``ivr serve`` processes set ``IVR_CLOCK_OFFSET_SECONDS``
    to reach this instant, so the rule book lets them call at any real hour.
    """
    day = now.astimezone(SAO_PAULO).date() + dt.timedelta(days=2)
    while day.weekday() not in (1, 2, 3) or day in holidays.country_holidays(
        "BR", subdiv="SP", years=day.year
    ):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(10, 0), SAO_PAULO)


def business_hours_offset() -> float:
    """Seconds from now to :func:`simulated_start` (``IVR_CLOCK_OFFSET_SECONDS``)."""
    now = dt.datetime.now(dt.UTC)
    return (simulated_start(now) - now).total_seconds()
