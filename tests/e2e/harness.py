"""Run the real service and the sandbox carrier together on loopback ports.

The service is told its public URL is ``https://ivr.test`` (as behind a TLS
proxy); the sandbox signs every request over that URL and delivers it to the
port the service really listens on.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from ivr.app import AppOptions, create_app
from ivr.config import Settings
from ivr.keys import SESSIONS
from ivr.sandbox.app import Sandbox
from ivr.store.importer import import_debtors

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
    def sessions(self):  # type: ignore[no-untyped-def]
        return self.app[SESSIONS]


@contextlib.asynccontextmanager
async def running_service(
    db_url: str,
    sandbox: Sandbox,
    cache_dir: Path,
    *,
    options: AppOptions | None = None,
    **overrides: object,
) -> AsyncIterator[Service]:
    settings = Settings(
        database_url=db_url,
        public_url=PUBLIC,
        twilio_account_sid=sandbox.account_sid,
        twilio_auth_token=sandbox.auth_token,
        twilio_from_number=FROM_NUMBER,
        twilio_api_url=sandbox.url,
        cache_dir=cache_dir,
        scheduler_enabled=False,
        **overrides,  # type: ignore[arg-type]
    )
    app = create_app(settings, options or AppOptions(keypad_only=True))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
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
