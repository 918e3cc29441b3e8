"""Queries on transfers to agents: the rows the transfer flow locks, moves and reports on.

Every function takes a session and leaves the transaction to its caller:
the transfer flow locks a transfer row (:func:`lock_transfer`) and decides
what to change in Python, so replicas and out-of-order carrier callbacks
cannot move one transfer twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.inbound import caller_locale
from ivr.store.models import Agent, CallAttempt, Debt, Debtor, Transfer
from ivr.store.queries import AttemptContext, load_attempt_context
from ivr.vocab.attempts import AttemptDirection

QUEUE_BATCH = 100
"""The most queued callers one dispatch round looks at (oldest first)."""


async def add_transfer(session: AsyncSession, attempt_id: int, reason: str) -> Transfer:
    """A new transfer, flushed so it has its id."""
    transfer = Transfer(attempt_id=attempt_id, reason=reason, tried_agent_ids=[])
    session.add(transfer)
    await session.flush()
    return transfer


async def lock_transfer(session: AsyncSession, transfer_id: int) -> Transfer | None:
    """The transfer under its row lock, as the database has it now."""
    return await session.get(Transfer, transfer_id, with_for_update=True, populate_existing=True)


@dataclass(frozen=True)
class TransferCall:
    """A transfer with the call it hands over (attempt, debtor, debt...).

    ``call`` is None for an inbound caller who asked for a person before saying
    who they are: there is no debtor and no debt, only the number they call
    from, and ``locale`` is the language they were greeted in.
    """

    transfer: Transfer
    attempt: CallAttempt
    call: AttemptContext | None
    locale: str

    @property
    def debtor(self) -> Debtor | None:
        return self.call.debtor if self.call else None

    @property
    def debt(self) -> Debt | None:
        return self.call.debt if self.call else None


async def call_to_transfer(
    session: AsyncSession, attempt_id: int
) -> tuple[CallAttempt, AttemptContext | None, str] | None:
    """The call a transfer hands over: the attempt, its context (None: an
    unidentified inbound caller) and the language it speaks; None when the
    attempt is gone or is one of our calls without a debtor."""
    call = await load_attempt_context(session, attempt_id)
    if call is not None:
        return call.attempt, call, str(call.debtor.locale)
    attempt = await session.get(CallAttempt, attempt_id)
    if attempt is None or attempt.direction != AttemptDirection.INBOUND:
        return None
    return attempt, None, await caller_locale(session, attempt)


async def transfer_call(
    session: AsyncSession, transfer_id: int, *, lock: bool = True
) -> TransferCall | None:
    """The transfer (locked unless ``lock`` is False) and its call's context."""
    if lock:
        transfer = await lock_transfer(session, transfer_id)
    else:
        transfer = await session.get(Transfer, transfer_id)
    if transfer is None:
        return None
    found = await call_to_transfer(session, transfer.attempt_id)
    return None if found is None else TransferCall(transfer, *found)


async def queued_transfers(
    session: AsyncSession, limit: int = QUEUE_BATCH
) -> Sequence[tuple[Transfer, CallAttempt, Debtor | None]]:
    """Callers waiting in the queue, oldest request first, with their call and
    debtor (None: an inbound caller who has not said who they are)."""
    rows = await session.execute(
        select(Transfer, CallAttempt, Debtor)
        .join(CallAttempt, CallAttempt.id == Transfer.attempt_id)
        .outerjoin(Debtor, Debtor.id == CallAttempt.debtor_id)
        .where(Transfer.status == "queued")
        .order_by(Transfer.requested_at, Transfer.id)
        .limit(limit)
    )
    return [(t, a, d) for t, a, d in rows.all()]


async def open_transfers_of_ended_calls(
    session: AsyncSession, open_statuses: Collection[str], final_call_statuses: Collection[str]
) -> list[int]:
    """Transfers still open although their call has ended (a callback that never came)."""
    rows = await session.execute(
        select(Transfer.id)
        .join(CallAttempt, CallAttempt.id == Transfer.attempt_id)
        .where(
            Transfer.status.in_(open_statuses),
            CallAttempt.status.in_(final_call_statuses),
        )
    )
    return [transfer_id for (transfer_id,) in rows.all()]


async def active_transfer_for(session: AsyncSession, agent_id: int) -> Transfer | None:
    """The transfer the agent is on (ringing them or talking), the latest if several."""
    return await session.scalar(
        select(Transfer)
        .where(Transfer.agent_id == agent_id, Transfer.status.in_(("dialing", "connected")))
        .order_by(Transfer.id.desc())
    )


async def pending_wrapup_for(session: AsyncSession, agent_id: int) -> Transfer | None:
    """The latest finished transfer of the agent still without a wrap-up."""
    return await session.scalar(
        select(Transfer)
        .where(
            Transfer.agent_id == agent_id,
            Transfer.status == "completed",
            Transfer.outcome.is_(None),
        )
        .order_by(Transfer.id.desc())
    )


async def reached_user(session: AsyncSession, user_id: int, debtor_id: int) -> bool:
    """Whether a call of this debtor was ever transferred to this user (as an agent)."""
    transferred = await session.scalar(
        select(Transfer.id)
        .join(CallAttempt, CallAttempt.id == Transfer.attempt_id)
        .join(Agent, Agent.id == Transfer.agent_id)
        .where(Agent.user_id == user_id, CallAttempt.debtor_id == debtor_id)
        .limit(1)
    )
    return transferred is not None


@dataclass(frozen=True)
class TransferTallies:
    """Transfers requested in a period: how many per status, how many an agent
    answered, and the waits of those (None without any)."""

    by_status: dict[str, int]
    answered: int
    avg_wait_s: float | None
    max_wait_s: float | None


async def transfer_tallies(
    session: AsyncSession, since: dt.datetime | None, until: dt.datetime | None
) -> TransferTallies:
    """Counts over transfers requested in ``[since, until)``."""
    where: list[ColumnElement[bool]] = []
    if since is not None:
        where.append(Transfer.requested_at >= since)
    if until is not None:
        where.append(Transfer.requested_at < until)
    rows = (
        await session.execute(
            select(Transfer.status, func.count()).where(*where).group_by(Transfer.status)
        )
    ).all()
    answered = Transfer.answered_at.is_not(None)
    answered_n = await session.scalar(select(func.count(Transfer.id)).where(*where, answered))
    avg_wait, max_wait = (
        await session.execute(
            select(func.avg(Transfer.queue_wait_s), func.max(Transfer.queue_wait_s)).where(
                *where, answered
            )
        )
    ).one()
    return TransferTallies(
        by_status={str(status): int(n) for status, n in rows},
        answered=int(answered_n or 0),
        avg_wait_s=None if avg_wait is None else float(avg_wait),
        max_wait_s=None if max_wait is None else float(max_wait),
    )
