"""Who an inbound SMS is from, and the SMS opt-outs it asks for.

``From`` is matched against every debtor's numbers, except a number marked
as a wrong number for that debtor: whoever writes from it is not them. A
number several debtors list (a family phone) names all of them: a STOP
stops SMS to each, since any of them may have written it.

An SMS opt-out binds the *person* (``Debtor.sms_opted_out_at`` plus an
``opt_outs`` row with channel ``sms`` for the history) when the number is
a debtor's, and the *number* (``sms_number_opt_outs``) when it is nobody's.
It never touches calls: those have their own opt-outs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import (
    CallAttempt,
    Debtor,
    OptOut,
    Phone,
    SmsNumberOptOut,
    Transfer,
    utcnow,
)
from ivr.vocab.messages import Channel

SMS_SOURCE = "sms"
# Where a debtor may be on an agent's screen: ringing or talking, or waiting
# for the wrap-up (the pop stays up until it is written).
ON_SCREEN = ("dialing", "connected")


async def debtors_at_number(session: AsyncSession, e164: str) -> Sequence[Debtor]:
    """The debtors who list ``e164`` (not as a wrong number), locked, by id."""
    ids = (
        await session.scalars(
            select(Phone.debtor_id)
            .where(Phone.e164 == e164, Phone.wrong_number_at.is_(None))
            .distinct()
        )
    ).all()
    if not ids:
        return []
    rows = await session.scalars(
        select(Debtor).where(Debtor.id.in_(sorted(ids))).order_by(Debtor.id).with_for_update()
    )
    return rows.all()


async def opt_out_sms(session: AsyncSession, debtors: Iterable[Debtor]) -> list[int]:
    """Stop SMS to each debtor not yet stopped; the ids of those it changed."""
    now = utcnow()
    changed: list[int] = []
    for debtor in debtors:
        if debtor.sms_opted_out_at is not None:
            continue
        debtor.sms_opted_out_at = now
        session.add(OptOut(debtor_id=debtor.id, channel=Channel.SMS.value, source=SMS_SOURCE))
        changed.append(debtor.id)
    await session.flush()
    return changed


async def opt_in_sms(session: AsyncSession, debtors: Iterable[Debtor]) -> list[int]:
    """SMS again for each stopped debtor; the ids of those it changed. (The
    ``opt_outs`` rows stay: they are the history.)"""
    changed: list[int] = []
    for debtor in debtors:
        if debtor.sms_opted_out_at is None:
            continue
        debtor.sms_opted_out_at = None
        changed.append(debtor.id)
    await session.flush()
    return changed


async def block_number_sms(session: AsyncSession, e164: str, message_sid: str) -> bool:
    """No SMS to ``e164`` any more; False when it already was blocked."""
    known = await session.scalar(
        select(SmsNumberOptOut.id).where(SmsNumberOptOut.e164 == e164).with_for_update()
    )
    if known is not None:
        return False
    session.add(SmsNumberOptOut(e164=e164, message_sid=message_sid))
    await session.flush()
    return True


async def unblock_number_sms(session: AsyncSession, e164: str) -> bool:
    """SMS allowed again to ``e164``; False when it was not blocked."""
    result = await session.execute(delete(SmsNumberOptOut).where(SmsNumberOptOut.e164 == e164))
    return bool(getattr(result, "rowcount", 0))


async def sms_blocked_numbers(
    session: AsyncSession, numbers: Sequence[str]
) -> dict[str, dt.datetime]:
    """Which of ``numbers`` asked, before we knew who they were, for no SMS (and when):
    what the SMS rule book reads beside the debtor's own ``sms_opted_out_at``."""
    if not numbers:
        return {}
    rows = await session.execute(
        select(SmsNumberOptOut.e164, SmsNumberOptOut.created_at).where(
            SmsNumberOptOut.e164.in_(list(numbers))
        )
    )
    return {e164: at for e164, at in rows.all()}


async def screens_showing(session: AsyncSession, debtor_id: int) -> list[tuple[int, int]]:
    """(agent id, transfer id) of every agent who has the debtor on screen: on
    a transferred call of theirs, or writing its wrap-up."""
    rows = await session.execute(
        select(Transfer.agent_id, Transfer.id)
        .join(CallAttempt, CallAttempt.id == Transfer.attempt_id)
        .where(
            CallAttempt.debtor_id == debtor_id,
            Transfer.agent_id.is_not(None),
            Transfer.status.in_(ON_SCREEN)
            | ((Transfer.status == "completed") & Transfer.outcome.is_(None)),
        )
        .order_by(Transfer.id.desc())
    )
    seen: dict[int, int] = {}
    for agent_id, transfer_id in rows.all():
        if agent_id is not None:
            seen.setdefault(agent_id, transfer_id)
    return list(seen.items())
