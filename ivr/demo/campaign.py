"""The demo's run: a sandbox carrier and the service on loopback, then one step after another.

Each step is a small coroutine taking the :class:`Demo` (settings, sandbox,
sessions, console, the people and the calls so far); :data:`STEPS` lists
them in order, so a new part of the story (an inbound call, an SMS) is one
more function and one more line there.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from rich.console import Console
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.app import AppOptions, create_app
from ivr.config import Settings
from ivr.demo.people import Person, example_people, generate_portfolio
from ivr.demo.progress import CallProgress
from ivr.demo.report import show_results, tell_stories
from ivr.demo.round_trip import (
    inbound_call,
    reply_sair,
    set_up_payments,
    show_messages,
)
from ivr.keys import SESSIONS
from ivr.kpis import campaign_kpis
from ivr.sandbox.app import Sandbox
from ivr.sandbox.config import SandboxConfig
from ivr.store.importer import import_debtors
from ivr.store.migrate import upgrade_async
from ivr.store.models import Campaign, Debtor, utcnow

ROOT = Path(__file__).resolve().parents[2]
PORTFOLIO = ROOT / "examples" / "portfolio.csv"
PUBLIC = "https://ivr.demo"
DEMO_DB = Path("ivr-demo.db")
CAMPAIGN = "demo"
# The demo campaign's channels: calls on the line at once. A real campaign
# starts near the default (5); a demo on a laptop wants to see many calls.
DEMO_CHANNELS = 40
# Calls being placed at once (claim, carrier request, record): the demo's
# calls-per-second limit, and fewer writers waiting on SQLite's one lock.
DEMO_PLACING = 2
# The carrier ends a demo call after this much call time (Twilio's time
# limit; no demo conversation lasts half of it), and the demo waits at most
# CALL_WAIT_S wall-clock seconds for any one call: a machine too busy to keep
# up slows the demo down but never hangs it.
MAX_CALL_SECONDS = 600.0
CALL_WAIT_S = 900
# Beyond this many calls the per-call stories would bury the summary.
STORY_LIMIT = 10


@dataclass
class Demo:
    """What every step works with."""

    settings: Settings
    sandbox: Sandbox
    sessions: async_sessionmaker[AsyncSession]
    console: Console
    debtors: int | None
    people: dict[str, Person] = field(default_factory=dict)
    sids: dict[str, str] = field(default_factory=dict)


async def import_portfolio(demo: Demo) -> None:
    """The example portfolio, or ``--debtors N`` generated Brazilian debtors."""
    today = dt.date.today()
    with tempfile.TemporaryDirectory(prefix="ivr-demo-") as tmp:
        if demo.debtors is None:
            path, demo.people = PORTFOLIO, example_people(today)
        else:
            path = Path(tmp) / f"generated-{demo.debtors}-debtors.csv"
            demo.people = generate_portfolio(path, demo.debtors, today)
        report = await import_debtors(
            demo.sessions, path, campaign=CAMPAIGN, default_locale=demo.settings.locale
        )
    for number, person in demo.people.items():
        demo.sandbox.add_callee(number, person.script)
    async with demo.sessions() as s, s.begin():
        await s.execute(
            update(Campaign)
            .where(Campaign.name == CAMPAIGN)
            .values(max_concurrent_calls=DEMO_CHANNELS)
        )
    demo.console.print(
        f"imported {report.ok} debtors from {path.name}, rejected {len(report.errors)}",
        highlight=False,
    )


async def call_everyone(demo: Demo) -> None:
    """Call each debtor the rules allow, at most :data:`DEMO_CHANNELS` at once."""
    from ivr.calls.one_call import CallNotPlaced, place_one_call

    async with demo.sessions() as s:
        refs = list((await s.scalars(select(Debtor.external_ref).order_by(Debtor.id))).all())
    channels = asyncio.Semaphore(DEMO_CHANNELS)
    placing = asyncio.Semaphore(DEMO_PLACING)
    chatty = len(refs) <= STORY_LIMIT
    demo.console.print(f"calling {len(refs)} debtors, {DEMO_CHANNELS} channels", highlight=False)

    with CallProgress(demo.console, len(refs)) as progress:

        async def one(ref: str) -> None:
            async with channels:
                at = await _legal_instant(demo.sessions, ref, progress if chatty else None)
                if at is None:
                    progress.note(f"  not calling {ref}: the rules forbid it (see /explain)")
                    progress.call_ended()
                    return
                try:
                    async with placing:
                        sid = await place_one_call(
                            demo.settings, ref, now=at, sessions=demo.sessions
                        )
                except (CallNotPlaced, SQLAlchemyError) as exc:
                    reason = str(exc).splitlines()[0]
                    progress.note(f"  {ref}: not placed ({reason})")
                    progress.call_ended()
                    return
                demo.sids[ref] = sid
                progress.call_placed()
                if chatty:
                    progress.note(f"  calling {ref} ({sid})")
                try:
                    await demo.sandbox.wait_for_call_end(sid, timeout=CALL_WAIT_S)
                except TimeoutError:
                    progress.note(f"  {ref}: still on the line after {CALL_WAIT_S} s; not waiting")
                progress.call_ended()

        await asyncio.gather(*(one(ref) for ref in refs))
    await asyncio.sleep(0.5)  # the last status callbacks


async def _legal_instant(
    sessions: async_sessionmaker[AsyncSession], ref: str, progress: CallProgress | None
) -> dt.datetime | None:
    """When the demo may call ``ref``: now, or (on a simulated clock) the next legal hour.

    The demo's people are simulated, but its calls still go through the rule
    book: outside the debtor's calling hours the call is placed as if at the
    first instant they open, and the demo says so.
    """
    from scheduler.manual import next_legal_instant

    now = utcnow()
    at = await next_legal_instant(sessions, ref, now)
    if progress is not None and at is not None and at > now:
        progress.note(
            f"  {ref}: outside calling hours now; simulating the call at {at:%Y-%m-%d %H:%M} UTC"
        )
    return at


async def tell_the_calls(demo: Demo) -> None:
    """Each call's story, when there are few enough to read."""
    if len(demo.sids) > STORY_LIMIT:
        return
    demo.console.print()
    async with demo.sessions() as s:
        await tell_stories(demo.console, s, demo.sandbox, demo.sids, demo.people)


async def sum_up(demo: Demo) -> None:
    """The outcomes table and the campaign's KPIs, from the store."""
    async with demo.sessions() as s:
        campaign_id = await s.scalar(select(Campaign.id).where(Campaign.name == CAMPAIGN))
        kpis = await campaign_kpis(s, campaign_id=campaign_id)
    show_results(demo.console, kpis, demo.settings.locale)


Step = Callable[[Demo], Awaitable[None]]
STEPS: tuple[Step, ...] = (
    import_portfolio,
    set_up_payments,
    call_everyone,
    tell_the_calls,
    inbound_call,
    reply_sair,
    show_messages,
    sum_up,
)


async def run_demo(
    settings: Settings,
    *,
    speed: float = 4.0,
    keep_db: bool = False,
    debtors: int | None = None,
    console: Console | None = None,
) -> int:
    console = console or Console(highlight=False)
    explicit_db = "IVR_DATABASE_URL" in os.environ
    if not explicit_db:
        _remove_demo_db()
        settings = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{DEMO_DB}"})
    await upgrade_async(settings.database_url)
    console.print(f"database: {settings.database_url}")
    try:
        async with _service(settings, speed, console, debtors) as demo:
            for step in STEPS:
                await step(demo)
    finally:
        if not explicit_db and not keep_db:
            _remove_demo_db()
    return 0


@contextlib.asynccontextmanager
async def _service(
    settings: Settings, speed: float, console: Console, debtors: int | None
) -> AsyncIterator[Demo]:
    """The sandbox carrier and the service, wired to each other on loopback ports."""
    config = SandboxConfig(speed=speed, max_call_seconds=MAX_CALL_SECONDS)
    async with Sandbox(config) as sandbox:
        svc_settings = settings.model_copy(
            update={
                "public_url": PUBLIC,
                "twilio_account_sid": sandbox.account_sid,
                "twilio_auth_token": sandbox.auth_token,
                "twilio_from_number": "+551130000000",
                # The US debtor is told a US number (the BR one is the from-number).
                "callback_number_us": settings.callback_number_us or "+18005550100",
                "twilio_api_url": sandbox.url,
                "scheduler_enabled": False,
            }
        )
        keypad_only = not settings.vosk_model
        app = create_app(svc_settings, AppOptions(keypad_only=keypad_only))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        sandbox.config.rewrite_base[PUBLIC] = f"http://127.0.0.1:{port}"
        console.print(f"sandbox carrier at {sandbox.url}; service at http://127.0.0.1:{port}")
        if keypad_only:
            console.print("answers by keypad (no speech model: IVR_VOSK_MODEL is not set)")
        try:
            yield Demo(svc_settings, sandbox, app[SESSIONS], console, debtors)
        finally:
            await runner.cleanup()


def _remove_demo_db() -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DEMO_DB}{suffix}").unlink(missing_ok=True)
