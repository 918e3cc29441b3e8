"""What each ``ivr`` command does, once :mod:`ivr.cli` has read its arguments.

Kept apart from the parser so the command line (names, options, help) reads
in one place and each command's work in another. Every command checks the
settings it needs first; a failure the user can fix is a :class:`CommandError`
(printed without a traceback, exit status 1).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Iterable
from pathlib import Path

from ivr.config import Settings, SettingsError
from ivr.store.db import open_sessions
from ivr.vocab.staff import Role


def _startup_errors() -> tuple[type[Exception], ...]:
    from ivr.dialog.flow_model import FlowError
    from ivr.dialog.grammars import GrammarError
    from ivr.dialog.prompts import PromptError
    from ivr.voice.errors import VoiceError

    return (VoiceError, FlowError, GrammarError, PromptError)


class CommandError(Exception):
    """A user-facing failure: printed without a traceback, exit status 1."""


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from ivr.store.migrate import upgrade

    upgrade(settings.database_url)
    print(f"database is up to date: {_safe_url(settings.database_url)}")
    return 0


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy.exc import DBAPIError

    from ivr.store.importer import ImportRefused, import_debtors

    async def run() -> int:
        try:
            async with open_sessions(settings.database_url) as sessions:
                report = await import_debtors(
                    sessions,
                    Path(args.file),
                    campaign=args.campaign,
                    default_locale=settings.locale,
                    encoding=args.encoding,
                )
        except ImportRefused as exc:
            raise CommandError(f"import refused: {exc}") from None
        except DBAPIError as exc:  # never the statement's parameters: they are personal data
            reason = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
            raise CommandError(
                f"import stopped, the database failed: {reason}. The batches already "
                "committed stay; importing the same file again completes it."
            ) from None
        rejected = len(report.errors)
        print(f"imported {report.inserted} new, updated {report.updated}, rejected {rejected}")
        for err in report.errors:
            print(f"  rejected {err}", file=sys.stderr)
        if args.rejects:
            _write_rejects(
                Path(args.rejects), ((e.line, e.external_ref, e.reason) for e in report.errors)
            )
        return 0 if not report.errors else 3

    _auto_migrate(settings)
    return asyncio.run(run())


def _write_rejects(path: Path, rows: Iterable[tuple[int, str, str]]) -> None:
    """The rejected lines as a CSV a spreadsheet can open safely (formulas neutralised)."""
    from ivr.store.csvfile import write_csv

    try:
        with path.open("w", encoding="utf-8", newline="") as out:
            write_csv(out, ["line", "external_ref", "reason"], rows)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None
    print(f"rejected lines written to {path}")


def cmd_import_payments(settings: Settings, args: argparse.Namespace) -> int:
    from scheduler.payments import import_payments_csv

    async def run() -> int:
        try:
            async with open_sessions(settings.database_url) as sessions:
                report = await import_payments_csv(
                    sessions, Path(args.file), encoding=args.encoding
                )
        except ValueError as exc:
            raise CommandError(f"import refused: {exc}") from None
        if any(e.line == 1 for e in report.errors) and not report.imported:
            raise CommandError(f"import refused: {report.errors[0].reason}")
        print(
            f"recorded {report.imported} payment(s) ({report.debts_paid} debt(s) now paid), "
            f"{report.duplicates} already known, rejected {len(report.errors)}"
        )
        for err in report.errors:
            print(f"  rejected line {err.line}: {err.reason}", file=sys.stderr)
        if args.rejects:
            _write_rejects(Path(args.rejects), ((e.line, "", e.reason) for e in report.errors))
        return 0 if not report.errors else 3

    _auto_migrate(settings)
    return asyncio.run(run())


def cmd_call(settings: Settings, args: argparse.Namespace) -> int:
    from ivr.calls.one_call import os_user, place_one_call
    from scheduler.manual import Override

    override = None
    if args.override_caps:
        if not (args.reason or "").strip():
            raise CommandError("--override-caps needs --reason TEXT (why the limits are passed)")
        override = Override(by=(args.by or os_user()).strip(), reason=args.reason.strip())
    elif args.reason or args.by:
        raise CommandError("--reason and --by go with --override-caps")
    settings.require("public_url", "twilio_account_sid", "twilio_auth_token", "twilio_from_number")

    async def run() -> int:
        sid = await place_one_call(settings, args.external_ref, override=override)
        print(f"calling {args.external_ref}: {sid}")
        return 0

    return asyncio.run(run())


def cmd_explain(settings: Settings, args: argparse.Namespace) -> int:
    import datetime as dt

    from ivr.clock import utcnow
    from ivr.explain_report import explain_report

    at = utcnow()
    if args.at:
        try:
            at = dt.datetime.fromisoformat(args.at)
        except ValueError:
            raise CommandError(f"--at {args.at!r} is not an ISO date-time") from None
        if at.tzinfo is None:
            raise CommandError("--at needs a UTC offset, e.g. 2026-09-29T10:00-03:00")
    try:
        print(asyncio.run(explain_report(settings, args.external_ref, at)))
    except LookupError as exc:
        raise CommandError(str(exc)) from None
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from ivr.app import AppOptions, create_app
    from ivr.drain import serve

    settings.require("public_url", "twilio_account_sid", "twilio_auth_token", "twilio_from_number")
    STARTUP_ERRORS = _startup_errors()
    if not settings.vosk_model and not args.keypad_only:
        raise SettingsError(
            "missing setting(s): IVR_VOSK_MODEL (path to a Vosk model; "
            "or run with --keypad-only to answer by keypad alone)"
        )
    _auto_migrate(settings)
    app = create_app(settings, AppOptions(keypad_only=args.keypad_only))
    app.on_startup.append(_freeze_startup_objects)
    access_log = logging.getLogger("aiohttp.access") if args.verbose else None
    try:
        asyncio.run(
            serve(
                app,
                args.host,
                args.port,
                drain_timeout_s=settings.drain_timeout_seconds,
                access_log=access_log,
            )
        )
    except STARTUP_ERRORS as exc:
        raise SettingsError(str(exc)) from None
    return 0


def cmd_sandbox(settings: Settings, args: argparse.Namespace) -> int:
    from ivr.sandbox.app import run_sandbox
    from ivr.sandbox.config import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, SandboxConfig

    # The service's IVR_TWILIO_* credentials, when set, so one environment serves both.
    config = SandboxConfig(
        account_sid=settings.twilio_account_sid or DEFAULT_ACCOUNT_SID,
        auth_token=settings.twilio_auth_token or DEFAULT_AUTH_TOKEN,
    )
    asyncio.run(run_sandbox(host=args.host, port=args.port, config=config))
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from ivr.demo import run_demo

    if not args.verbose:  # the demo prints its own story; log lines only for trouble
        logging.getLogger().setLevel(logging.WARNING)
    if args.debtors is not None and args.debtors < 1:
        raise CommandError("--debtors needs a positive number")
    if args.speed <= 0:
        raise CommandError("--speed needs a positive number")
    return asyncio.run(
        run_demo(settings, speed=args.speed, keep_db=args.keep_db, debtors=args.debtors)
    )


def cmd_nlu(settings: Settings, args: argparse.Namespace) -> int:
    from ivr.dialog.nlu import nlu_cli

    print(nlu_cli(args.locale, args.today, args.text))
    return 0


def cmd_prompts(settings: Settings, args: argparse.Namespace) -> int:
    from ivr.prompt_render import run_render

    first_only, limit = args.first_wording, args.max_seconds
    return run_render(settings, args.locale, Path(args.out), first_only, limit)


def cmd_add_user(settings: Settings, args: argparse.Namespace) -> int:
    import getpass

    from ivr.agents.schemas import ENDPOINT_RE
    from ivr.web.accounts import UserExists, create_user, default_endpoint

    is_agent = args.role == Role.AGENT.value
    endpoint = (args.endpoint or default_endpoint(args.username.strip())).strip()
    if is_agent and not ENDPOINT_RE.match(endpoint):
        raise CommandError(
            f"agent endpoint {endpoint!r} must be client:NAME, sip:URI or an E.164 number"
            " (give one with --endpoint)"
        )
    password = getpass.getpass("password: ") if args.password else None

    async def run() -> str:
        # An agent user is an agent: create_user makes the agent row the
        # desktop and routing need, in the same transaction.
        try:
            async with open_sessions(settings.database_url) as sessions:
                return await create_user(
                    sessions,
                    args.username,
                    args.role,
                    password,
                    languages=args.languages or [settings.locale.value],
                    display_name=args.display_name,
                    endpoint=endpoint,
                )
        except (UserExists, ValueError) as exc:
            raise CommandError(str(exc)) from None

    _auto_migrate(settings)
    key = asyncio.run(run())
    print(f"API key for {args.username} ({args.role}), shown once: {key}")
    if is_agent:
        print(f"{args.username} is an agent, rung at {endpoint}")
    return 0


async def _freeze_startup_objects(app: object) -> None:
    """Move everything loaded at start-up out of the garbage collector's sight.

    The model, prompts, grammars and libraries never die; without this, full
    collections scan them again and again and showed up as 40-70 ms pauses
    in the dialer's tick (bench/planner.py).
    """
    import gc

    gc.collect()
    gc.freeze()


def _auto_migrate(settings: Settings) -> None:
    """The embedded default migrates itself; a shared PostgreSQL is migrated on purpose."""
    if settings.database_url.startswith("sqlite"):
        from ivr.store.migrate import upgrade

        upgrade(settings.database_url)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
