"""Whether a Media Streams ``start`` may become a call: the stream's only gate.

The upgrade signature proves the carrier opened the socket, not which call
it carries (it covers a URL that never changes). So ``start`` must name a
live attempt (not final) whose CallSid is the one in ``start``, carry the
token the answer TwiML gave that very attempt and CallSid, and be the first
``start`` ever accepted for it (on any replica: the database decides).
A genuine ``start`` of a call that has just ended is refused too, as
:data:`CALL_ENDED`: nobody is left to talk to.

Checks that need no database run first, so a forged ``start`` never touches
the store. The rest is one short transaction with no await on the network in
it, that writes only when the start is accepted: a refused start leaves
nothing behind and holds no lock beyond its own few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.store.call_attempts import bind_stream_call_sid, ended_call
from ivr.store.ids import parse_row_id
from ivr.store.queries import insert_once
from ivr.telephony import media_codec as mc
from ivr.telephony.stream_token import TOKEN_PARAMETER, StreamTokens

STREAM_START_KEY = "stream:start"
CALL_ENDED = "call_ended"
"""The refusal of a genuine stream whose call had ended: normal, not a warning.
The carrier sends ``start`` as soon as the socket is up and the status
callback as soon as the caller hangs up, on separate connections; when the
caller hangs up at once, the store can learn of the end first."""


class _Refused(Exception):
    """Raised inside the transaction so that it rolls back: nothing is written."""


@dataclass(frozen=True)
class StartVerdict:
    """``attempt_id`` when accepted, else None and why (for one log line)."""

    attempt_id: int | None
    reason: str


async def authorize_start(
    sessions: async_sessionmaker[AsyncSession], tokens: StreamTokens, start: mc.Start
) -> StartVerdict:
    params = start.custom_parameters
    attempt_id = parse_row_id(params.get("attempt_id"))
    if attempt_id is None:
        return StartVerdict(None, "bad_attempt_id")
    if not tokens.verify(attempt_id, start.call_sid, params.get(TOKEN_PARAMETER)):
        return StartVerdict(None, "bad_token")
    try:
        async with sessions() as s, s.begin():
            if not await bind_stream_call_sid(s, attempt_id, start.call_sid):
                if await ended_call(s, attempt_id, start.call_sid):
                    raise _Refused(CALL_ENDED)
                raise _Refused("not_live_or_other_call")
            first = await insert_once(
                s,
                attempt_id=attempt_id,
                kind="stream_start",
                dedupe_key=STREAM_START_KEY,
                data={"stream_sid": start.stream_sid},
            )
            if not first:
                raise _Refused("already_started")
    except _Refused as refused:
        return StartVerdict(None, str(refused))
    except IntegrityError:  # the CallSid belongs to another attempt
        return StartVerdict(None, "call_sid_of_other_attempt")
    return StartVerdict(attempt_id, "accepted")
