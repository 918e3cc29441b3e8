"""``python -m ivr.sandbox``: run the Twilio-compatible sandbox standalone."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import Sequence

from ivr.sandbox.app import run_sandbox
from ivr.sandbox.config import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, SandboxConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ivr sandbox", description="Run the Twilio-compatible carrier sandbox."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    # The service's credentials when set, so one environment serves both processes.
    parser.add_argument(
        "--account-sid", default=os.environ.get("IVR_TWILIO_ACCOUNT_SID") or DEFAULT_ACCOUNT_SID
    )
    parser.add_argument(
        "--auth-token", default=os.environ.get("IVR_TWILIO_AUTH_TOKEN") or DEFAULT_AUTH_TOKEN
    )
    parser.add_argument("--speed", type=float, default=1.0, help="call time per wall second")
    parser.add_argument("--cps", type=float, default=None, help="calls per second limit")
    parser.add_argument("--cps-mode", choices=("queue", "reject"), default="queue")
    parser.add_argument(
        "--rewrite",
        action="append",
        default=[],
        metavar="PUBLIC=REAL",
        help="reach a public origin at a real one, e.g. https://ivr.example=http://127.0.0.1:8080",
    )
    parser.add_argument("--stream-base", default=None, help="ws://host:port for every Media Stream")
    return parser


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    rewrites: dict[str, str] = {}
    for item in args.rewrite:
        public, sep, real = item.partition("=")
        if not sep:
            raise SystemExit(f"--rewrite needs PUBLIC=REAL, got {item!r}")
        rewrites[public] = real
    return SandboxConfig(
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        speed=args.speed,
        cps=args.cps,
        cps_mode=args.cps_mode,
        rewrite_base=rewrites,
        rewrite_stream_base=args.stream_base,
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_sandbox(args.host, args.port, config_from_args(args)))


if __name__ == "__main__":
    main()
