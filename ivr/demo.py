"""``ivr demo``: a small campaign against the built-in sandbox, start to finish.

No account and no network: the sandbox carrier and the service run in this
process on loopback ports, the portfolio in ``examples/portfolio.csv`` is
imported into SQLite, every debtor is called, and simulated people answer
with the keypad (a promise, a wrong person, a voicemail box, a busy line, a
request to stop calling). What happened on each call is printed at the end.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from pathlib import Path

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.app import AppOptions, create_app
from ivr.config import Settings
from ivr.keys import SESSIONS
from ivr.sandbox.app import Sandbox
from ivr.sandbox.callee import CalleeScript, Press, WaitForPrompt
from ivr.sandbox.config import SandboxConfig
from ivr.store.importer import import_debtors
from ivr.store.migrate import upgrade_async
from ivr.store.models import CallAttempt, CallEvent, Debtor, Promise, utcnow
from scheduler.windows import business_day_on_or_after

ROOT = Path(__file__).resolve().parents[1]
PORTFOLIO = ROOT / "examples" / "portfolio.csv"
PUBLIC = "https://ivr.demo"
DEMO_DB = Path("ivr-demo.db")


def keypad_promise(day: dt.date) -> CalleeScript:
    """A debtor who confirms it is them, keys in ``day`` (DDMM#) and confirms."""
    return CalleeScript(
        steps=[
            WaitForPrompt(),  # greeting
            Press("1"),
            WaitForPrompt(),  # recording notice
            WaitForPrompt(),  # the reason, amount and due date
            WaitForPrompt(),  # when can you pay?
            Press(f"{day.day:02d}{day.month:02d}#"),
            WaitForPrompt(),  # read-back
            Press("1"),
        ]
    )


def _scripts(today: dt.date) -> dict[str, tuple[str, CalleeScript]]:
    """Who answers each number, and how (keypad only, so no speech model is needed)."""
    return {
        "+5511987654321": (
            "answers, confirms, promises by keypad",
            keypad_promise(business_day_on_or_after(today + dt.timedelta(days=5), "BR")),
        ),
        "+5521998765432": (
            "someone else answers",
            CalleeScript(steps=[WaitForPrompt(), Press("2"), WaitForPrompt(), Press("2")]),
        ),
        "+5531991234567": ("a voicemail box", CalleeScript(answer="voicemail")),
        "+5541992345678": ("the line is busy", CalleeScript(answer="busy")),
        "+5571993456789": (
            "asks not to be called again",
            CalleeScript(steps=[WaitForPrompt(), Press("9")]),
        ),
        "+12125550148": ("does not answer", CalleeScript(answer="no-answer", ring_seconds=30)),
    }


async def run_demo(settings: Settings, *, speed: float = 4.0, keep_db: bool = False) -> int:
    explicit_db = "IVR_DATABASE_URL" in os.environ
    if not explicit_db:
        _remove_demo_db()
        settings = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{DEMO_DB}"})
    await upgrade_async(settings.database_url)
    print(f"database: {settings.database_url}")
    async with Sandbox(SandboxConfig(speed=speed)) as sandbox:
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
        app = create_app(svc_settings, AppOptions(keypad_only=not settings.vosk_model))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        sandbox.config.rewrite_base[PUBLIC] = f"http://127.0.0.1:{port}"
        print(f"sandbox carrier at {sandbox.url}; service at http://127.0.0.1:{port}")
        try:
            sessions = app[SESSIONS]
            report = await import_debtors(sessions, PORTFOLIO, default_locale=settings.locale)
            print(
                f"imported {report.ok} debtors from {PORTFOLIO.name}, rejected {len(report.errors)}"
            )
            scripts = _scripts(dt.date.today())
            for number, (_what, script) in scripts.items():
                sandbox.add_callee(number, script)
            from ivr.calls.one_call import place_one_call

            async with sessions() as s:
                refs = list(
                    (await s.scalars(select(Debtor.external_ref).order_by(Debtor.id))).all()
                )
            sids = {}
            for ref in refs:
                at = await _legal_instant(sessions, ref)
                if at is None:
                    print(f"  not calling {ref}: the rules forbid it (see /explain)")
                    continue
                sids[ref] = await place_one_call(svc_settings, ref, now=at)
                print(f"  calling {ref} ({sids[ref]})")
            await asyncio.gather(
                *(sandbox.wait_for_call_end(sid, timeout=300) for sid in sids.values())
            )
            await asyncio.sleep(0.5)  # last status callbacks
            await _print_results(app, sandbox, sids, scripts)
        finally:
            await runner.cleanup()
    if not explicit_db and not keep_db:
        _remove_demo_db()
    return 0


async def _legal_instant(
    sessions: async_sessionmaker[AsyncSession], ref: str
) -> dt.datetime | None:
    """When the demo may call ``ref``: now, or (on a simulated clock) the next legal hour.

    The demo's people are simulated, but its calls still go through the rule
    book: outside the debtor's calling hours the call is placed as if at the
    first instant they open, and the demo says so.
    """
    from scheduler.manual import next_legal_instant

    now = utcnow()
    at = await next_legal_instant(sessions, ref, now)
    if at is not None and at > now:
        print(f"  {ref}: outside calling hours now; simulating the call at {at:%Y-%m-%d %H:%M} UTC")
    return at


def _remove_demo_db() -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DEMO_DB}{suffix}").unlink(missing_ok=True)


async def _print_results(
    app: web.Application,
    sandbox: Sandbox,
    sids: dict[str, str],
    scripts: dict[str, tuple[str, CalleeScript]],
) -> None:
    sessions = app[SESSIONS]
    print()
    async with sessions() as s:
        for ref, sid in sids.items():
            attempt = await s.scalar(select(CallAttempt).where(CallAttempt.call_sid == sid))
            assert attempt is not None
            debtor = await s.get(Debtor, attempt.debtor_id)
            assert debtor is not None
            what = scripts.get(attempt.to_number, ("answers and listens", None))[0]
            heard = sandbox.calls[sid].heard
            print(f"{ref}  {debtor.name}  {attempt.to_number}  ({what})")
            print(
                f"    carrier: {attempt.status.value}, answered by {attempt.answered_by or '-'}, "
                f"{attempt.duration_s or 0} s; heard {len(heard) / 8000:.1f} s of audio"
            )
            print(f"    outcome: {attempt.outcome or '-'}")
            events = (
                await s.scalars(
                    select(CallEvent)
                    .where(CallEvent.attempt_id == attempt.id)
                    .order_by(CallEvent.id)
                )
            ).all()
            for e in events:
                if e.kind == "prompt":
                    print(f"    said:   {e.data['text']}")
                elif (e.kind == "dtmf" and e.data.get("intent")) or e.data.get("complete"):
                    print(f"    keys:   {e.data.get('digits')}")
            promise = await s.scalar(select(Promise).where(Promise.attempt_id == attempt.id))
            if promise is not None:
                print(
                    f"    promise: {promise.amount_cents / 100:.2f} on "
                    f"{promise.promised_date.isoformat()}"
                )
            print()
