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
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.app import AppOptions, create_app
from ivr.calls.one_call import place_one_call
from ivr.config import Settings
from ivr.keys import SESSIONS
from ivr.sandbox.app import Sandbox
from ivr.store.importer import import_debtors
from ivr.store.models import utcnow
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
    try:
        yield Service(app, runner, port, settings)
    finally:
        await runner.cleanup()


async def import_rows(service: Service, tmp_path: Path, rows: list[str]) -> None:
    path = tmp_path / "portfolio.csv"
    path.write_text(CSV_HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    report = await import_debtors(service.sessions, path)
    assert report.errors == [], report.errors


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
