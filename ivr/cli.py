"""The ``ivr`` command line: serve, migrate, import, call, sandbox, demo, nlu, ...

This module reads the command line (:func:`build_parser`) and runs the chosen
command (:func:`main`); what each command does is in :mod:`ivr.cli_commands`.
Each command checks the settings it needs before doing anything and exits
with status 2 and a message naming what is missing.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ivr.calls.one_call import CallNotPlaced
from ivr.cli_commands import (
    CommandError,
    cmd_add_user,
    cmd_call,
    cmd_demo,
    cmd_explain,
    cmd_import,
    cmd_import_payments,
    cmd_migrate,
    cmd_nlu,
    cmd_prompts,
    cmd_sandbox,
    cmd_serve,
)
from ivr.config import SettingsError, load_settings
from ivr.vocab.locales import DEFAULT_LOCALE, LOCALES
from ivr.vocab.staff import Role


def _setup_logging(verbose: bool, transcripts: bool = False) -> None:
    from ivr.logs import setup_logging

    setup_logging(verbose=verbose, transcripts=transcripts)


# ------------------------------------------------------------------ parser


def _import_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--encoding",
        metavar="NAME",
        help="the file's encoding if not UTF-8 (e.g. latin-1, cp1252); default: UTF-8 only",
    )
    p.add_argument("--rejects", metavar="FILE.csv", help="also write the rejected lines here")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ivr", description="Humane collection call service.")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("serve", help="run the service (webhooks, media streams, dialer)")
    s.add_argument("--host", default="0.0.0.0")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--keypad-only", action="store_true", help="no speech model: keypad answers")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("migrate", help="create or upgrade the database schema")
    s.set_defaults(func=cmd_migrate)

    s = sub.add_parser("import", help="import debtors from a CSV file")
    s.add_argument("file")
    s.add_argument("--campaign", default="default", help="campaign name (created if new)")
    _import_options(s)
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("import-payments", help="mark debts paid from a CSV file")
    s.add_argument("file")
    _import_options(s)
    s.set_defaults(func=cmd_import_payments)

    s = sub.add_parser(
        "call", help="place one call to a debtor now, if the rules allow it (see /explain)"
    )
    s.add_argument("external_ref")
    s.add_argument(
        "--override-caps",
        action="store_true",
        help="pass the daily and weekly caps, the minimum gap and the retry wait (never the "
        "window, holidays, opt-outs or anything else); recorded with --reason and --by",
    )
    s.add_argument("--reason", help="why the caps are overridden (required with --override-caps)")
    s.add_argument("--by", help="who overrides (default: the OS user)")
    s.set_defaults(func=cmd_call)

    s = sub.add_parser(
        "explain", help="why a debtor may or may not be called, or sent an SMS, now (or --at)"
    )
    s.add_argument("external_ref")
    s.add_argument("--at", help="another instant, ISO 8601 with its offset")
    s.set_defaults(func=cmd_explain)

    s = sub.add_parser("sandbox", help="run the Twilio-compatible emulator")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8099)
    s.set_defaults(func=cmd_sandbox)

    s = sub.add_parser("demo", help="run a small campaign against the built-in sandbox")
    s.add_argument(
        "--speed",
        type=float,
        default=4.0,
        help="how much faster than real time the simulated calls run (rings, pauses, audio)",
    )
    s.add_argument(
        "--debtors",
        type=int,
        metavar="N",
        help="call N generated Brazilian debtors instead of the example portfolio",
    )
    s.add_argument("--keep-db", action="store_true", help="keep the demo database afterwards")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("add-user", help="create a supervisor or agent and print an API key")
    s.add_argument("username")
    s.add_argument("--role", choices=[r.value for r in Role], required=True)
    s.add_argument("--password", action="store_true", help="also set a login password")
    s.add_argument("--endpoint", help="agents: what to ring (default client:<username>)")
    s.add_argument("--display-name", help="agents: the name shown (default the username)")
    s.add_argument(
        "--languages",
        nargs="+",
        choices=LOCALES,
        help="agents: languages spoken (default IVR_LOCALE)",
    )
    s.set_defaults(func=cmd_add_user)

    s = sub.add_parser("nlu", help="print the intent and slots understood from a text")
    s.add_argument("--locale", default=DEFAULT_LOCALE.value, choices=LOCALES)
    s.add_argument("--today", required=True, help="YYYY-MM-DD")
    s.add_argument("text")
    s.set_defaults(func=cmd_nlu)

    s = sub.add_parser("prompts", help="render every prompt, with sample values, as WAV files")
    s.add_argument("action", choices=["render"], help="render: write the WAV files")
    s.add_argument("--locale", default="pt-BR", choices=["pt-BR", "en-US"])
    s.add_argument("--out", required=True, metavar="DIR", help="folder for the WAV files")
    s.add_argument("--first-wording", action="store_true", help="only each prompt's first wording")
    s.add_argument("--max-seconds", type=float, help="report prompts longer than this (20)")
    s.set_defaults(func=cmd_prompts)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    try:
        settings = load_settings()
        if settings.log_transcripts:
            _setup_logging(args.verbose, transcripts=True)
        if settings.clock_offset_seconds:
            from ivr import clock

            clock.set_offset(settings.clock_offset_seconds)
        result: Any = args.func(settings, args)
        return int(result or 0)
    except SettingsError as exc:
        print(f"ivr {args.command}: {exc}", file=sys.stderr)
        return 2
    except (CommandError, CallNotPlaced) as exc:
        print(f"ivr {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
