"""Calls the person places to the service's number: who might be calling, and
the attempt that records the call in their contact history.

Caller ID can be forged, so nothing here *proves* who calls: it only narrows
the people the call will ask about (none, one, or several on a shared family
phone). The call verifies before it says anything about a debt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import CallAttempt, Debt, Debtor, Phone, utcnow
from ivr.vocab.attempts import AttemptDirection, AttemptStatus
from ivr.vocab.debtors import DebtorStatus
from ivr.vocab.debts import DebtStatus
from ivr.vocab.locales import DEFAULT_LOCALE

#: At most this many people are offered by first name on one shared number.
MAX_CANDIDATES = 5
#: Keypad references are at most this many digits (external_ref is 64 chars).
MAX_REFERENCE_DIGITS = 20


async def debtors_by_phone(session: AsyncSession, e164: str) -> list[Debtor]:
    """Active people with this number on file, oldest record first."""
    rows = await session.scalars(
        select(Debtor)
        .join(Phone, Phone.debtor_id == Debtor.id)
        .where(Phone.e164 == e164, Debtor.status == DebtorStatus.ACTIVE)
        .order_by(Debtor.id)
        .limit(MAX_CANDIDATES)
    )
    return list(dict.fromkeys(rows.all()))


def number_locale(number: str) -> str:
    """An unknown caller is greeted in their number's language (+1: US English)."""
    return "en-US" if number.startswith("+1") else DEFAULT_LOCALE.value


async def caller_locale(session: AsyncSession, attempt: CallAttempt) -> str:
    """The language a caller who has not said who they are was greeted in: the
    first person on file with their number's, else their number's
    (``ivr.calls.inbound.load_inbound_setup`` greets them so)."""
    people = await debtors_by_phone(session, attempt.to_number)
    if people and people[0].locale:
        return str(people[0].locale)
    return number_locale(attempt.to_number)


def reference_digits(external_ref: str) -> str:
    """A reference as it is keyed on a phone: its digits only ("CONV-12" -> "12")."""
    return "".join(ch for ch in external_ref if ch.isdigit())


async def debtors_by_reference(session: AsyncSession, digits: str) -> list[Debtor]:
    """Active people whose reference, keyed as digits, is ``digits``.

    The pattern narrows the rows in the database (the digits in order, anything
    between them); the exact comparison is made on the digits of each match.
    """
    if not digits.isdigit() or len(digits) > MAX_REFERENCE_DIGITS:
        return []
    pattern = "%" + "%".join(digits) + "%"
    rows = await session.scalars(
        select(Debtor)
        .where(Debtor.external_ref.like(pattern), Debtor.status == DebtorStatus.ACTIVE)
        .order_by(Debtor.id)
        .limit(50)
    )
    found = [d for d in rows.all() if reference_digits(d.external_ref) == digits]
    return found[:MAX_CANDIDATES]


async def open_debt(session: AsyncSession, debtor_id: int) -> Debt | None:
    """The debt an inbound call is about: the open one due first."""
    return await session.scalar(
        select(Debt)
        .where(Debt.debtor_id == debtor_id, Debt.status == DebtStatus.OPEN)
        .order_by(Debt.due_date, Debt.id)
        .limit(1)
    )


async def open_inbound_attempt(
    session: AsyncSession,
    *,
    call_sid: str,
    caller: str,
    debtor: Debtor | None,
    local_day: dt.date,
) -> CallAttempt:
    """Record an inbound call as it is answered (``in-progress``).

    ``debtor``: the one person with this number, else None until the caller
    identifies (:func:`identify_inbound`). Never claimed by a dialer, so no
    cap is checked: the person called us.
    """
    now = utcnow()
    attempt = CallAttempt(
        direction=AttemptDirection.INBOUND,
        to_number=caller,
        call_sid=call_sid,
        status=AttemptStatus.IN_PROGRESS,
        local_day=local_day,
        claimed_at=now,
        placed_at=now,
        answered_at=now,
    )
    session.add(attempt)
    if debtor is not None:
        await _attach(session, attempt, debtor.id, caller)
    await session.flush()
    return attempt


async def _attach(session: AsyncSession, attempt: CallAttempt, debtor_id: int, caller: str) -> None:
    debt = await open_debt(session, debtor_id)
    phone_id = await session.scalar(
        select(Phone.id).where(Phone.debtor_id == debtor_id, Phone.e164 == caller)
    )
    attempt.debtor_id = debtor_id
    attempt.debt_id = debt.id if debt else None
    attempt.campaign_id = debt.campaign_id if debt else None
    attempt.phone_id = phone_id


async def identify_inbound(session: AsyncSession, attempt_id: int, debtor_id: int) -> None:
    """The caller chose, or keyed, who they are: the call is now in that person's
    history (still unverified: the factor comes next)."""
    attempt = await session.get(CallAttempt, attempt_id)
    if attempt is None or attempt.direction != AttemptDirection.INBOUND:
        return
    if attempt.debtor_id != debtor_id:
        await _attach(session, attempt, debtor_id, attempt.to_number)


async def mark_verified(session: AsyncSession, attempt_id: int) -> None:
    """The person on the line met the campaign's verification policy."""
    await session.execute(
        update(CallAttempt)
        .where(CallAttempt.id == attempt_id, CallAttempt.verified_at.is_(None))
        .values(verified_at=utcnow())
    )


async def inbound_attempts(session: AsyncSession, debtor_id: int) -> Sequence[CallAttempt]:
    """This person's calls to us, newest first."""
    rows = await session.scalars(
        select(CallAttempt)
        .where(
            CallAttempt.debtor_id == debtor_id,
            CallAttempt.direction == AttemptDirection.INBOUND,
        )
        .order_by(CallAttempt.claimed_at.desc())
    )
    return rows.all()
