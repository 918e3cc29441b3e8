"""``ivr call``: one call placed now, through the rule book, for a person named by reference.

Apart from the command line so the demo, the end-to-end tests and the
benchmarks place calls exactly as a supervisor does, without the CLI.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.config import Settings
from ivr.store.db import open_sessions

if TYPE_CHECKING:
    from scheduler.manual import Override


class CallNotPlaced(Exception):
    """A user-facing refusal or carrier failure: printed without a traceback."""


def os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


async def place_one_call(
    settings: Settings,
    external_ref: str,
    *,
    override: Override | None = None,
    now: dt.datetime | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> str:
    """``ivr call``: claim an attempt for this debtor through the rule book and dial it now.

    Refused (CallNotPlaced, one line per reason, the words of ``/explain``)
    when the debtor may not be called; ``override`` passes the frequency
    limits only. ``now`` is for tests that must place a call at a legal hour.
    """
    from ivr.calls.dialer import CarrierDialer, claim_manual_attempt
    from ivr.store import call_attempts
    from ivr.telephony.rest import CarrierError, CarrierUnknown, TwilioCalls
    from scheduler.manual import CallRefused

    assert settings.twilio_account_sid and settings.twilio_auth_token
    carrier = TwilioCalls(
        settings.twilio_account_sid, settings.twilio_auth_token, api_url=settings.twilio_api_url
    )
    try:
        async with contextlib.AsyncExitStack() as stack:
            if sessions is None:
                sessions = await stack.enter_async_context(open_sessions(settings.database_url))
            try:
                attempt_id, to = await claim_manual_attempt(
                    sessions, external_ref, now=now, override=override
                )
            except CallRefused as exc:
                lines = "\n".join(f"  {line}" for line in exc.lines())
                raise CallNotPlaced(f"not calling {external_ref}:\n{lines}") from None
            except LookupError as exc:
                raise CallNotPlaced(str(exc)) from None
            dialer = CarrierDialer(settings, carrier, sessions, voice=None)
            try:
                return await dialer.place(attempt_id, to)
            except (CarrierError, CarrierUnknown) as exc:
                async with sessions() as s, s.begin():
                    await call_attempts.mark_not_placed(
                        s, attempt_id, unknown=isinstance(exc, CarrierUnknown), error=str(exc)
                    )
                raise CallNotPlaced(f"call not placed: {exc}") from None
    finally:
        await carrier.close()
