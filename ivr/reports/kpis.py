"""The collection KPIs: what each one counts, in one place.

The compliance reference ("Collection KPIs") gives the ratios; this module
says exactly which rows each numerator and denominator counts, for one
campaign on one local day (the debtor's calendar day of the call, the
attempt's ``local_day``). The daily roll-ups (:mod:`ivr.reports.rollups`),
the reports API and the demo's summary all count through
:func:`compute_counts` and derive the rates with :func:`derive`, so they can
never disagree.

Counts (the columns of ``daily_campaign_stats``):

* **attempts** -- outbound calls that reached the carrier (``placed_at`` set);
  a claim cancelled before dialling is not a call. Calls a person placed to
  us are not attempts and stay out of every count here.
* **contacts** -- attempts answered by a live person: the outcome says
  someone spoke (anything but ``voicemail``, ``no_contact`` and ``error``)
  and the carrier did not detect a machine. A silent call ends
  ``no_contact`` (even when detection guessed ``human``): not a contact.
* **rpcs** -- right-party contacts: the outcome says we spoke with the
  verified debtor (:data:`ivr.vocab.outcomes.RIGHT_PARTY_OUTCOMES`).
* **promises** -- agreements made in those attempts (by the call flow or by
  the agent the call was transferred to): a single promise or a whole plan
  counts once (its first instalment); ``promised_cents`` is their total.
* **promises_falling_due / kept / settled** -- promises and instalments of
  the campaign's debts whose promised date is this day (cancelled ones
  left out), those marked kept (paid by their date) and those settled
  (kept or broken, which happens the day after the date).
* **collected_cents** -- payments on the campaign's debts dated this day.
* **assigned_cents** -- debts added to the campaign this (UTC) day.
* **transfers / abandoned** -- hand-offs to a person requested in those
  attempts, and those the caller left before an agent answered
  (status ``abandoned``; a caller who accepted a callback is not counted).
* **handled, talk_s, hold_s, wrap_s** -- transfers an agent answered, and
  their seconds: talk from the agent's answer to the end, hold as the
  caller's wait in the queue before the answer (holds during the
  conversation are not recorded), after-call work from the end to the
  agent's wrap-up note (none without a note). An approximation of the
  industry's handle time, built from what the store records.

Rates (:class:`Kpis`): contact rate = contacts / attempts; RPC rate = rpcs /
attempts; promise rate = promises / rpcs; kept rate = kept / due, where a
day's promises are due once the day is over (before that, only the settled
ones); liquidation = collected / assigned up to that day; abandonment rate
= abandoned / transfers; average handle time = (talk + hold + wrap) / handled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, func, literal, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ivr.store.models import CallAttempt, CallEvent, Debt, Payment, Promise, Transfer
from ivr.vocab.attempts import AttemptDirection
from ivr.vocab.debts import PromiseStatus
from ivr.vocab.outcomes import NOT_LIVE_OUTCOMES, RIGHT_PARTY_OUTCOMES, Outcome
from ivr.vocab.transfers import TransferStatus

#: Outcomes that say a person spoke on the call.
CONTACT_OUTCOMES: frozenset[Outcome] = frozenset(set(Outcome) - {*NOT_LIVE_OUTCOMES, Outcome.ERROR})

Key = tuple[int, dt.date]


def _vals(outcomes: Iterable[Outcome]) -> list[str]:
    return sorted(o.value for o in outcomes)


def is_attempt() -> ColumnElement[bool]:
    """An outbound call that reached the carrier."""
    return and_(
        CallAttempt.direction == AttemptDirection.OUTBOUND.value,
        CallAttempt.placed_at.is_not(None),
    )


def _not_machine() -> ColumnElement[bool]:
    answered_by = func.coalesce(CallAttempt.answered_by, "")
    return not_(or_(answered_by.like("machine%"), answered_by == "fax"))


def is_contact() -> ColumnElement[bool]:
    """Answered by a live person (see the module's definitions)."""
    return and_(CallAttempt.outcome.in_(_vals(CONTACT_OUTCOMES)), _not_machine())


def is_rpc() -> ColumnElement[bool]:
    """A conversation with the verified debtor."""
    return and_(CallAttempt.outcome.in_(_vals(RIGHT_PARTY_OUTCOMES)), _not_machine())


def is_agreement() -> ColumnElement[bool]:
    """A promise row that is an agreement: a single promise, or a plan's first instalment."""
    return or_(Promise.sequence.is_(None), Promise.sequence == 1)


def is_due(today: dt.date) -> ColumnElement[bool]:
    """A promise (or instalment) that is due: not cancelled, and its day is over or it
    was settled (kept or broken). :func:`promises_due` is the same rule on the counts."""
    return and_(
        Promise.status != PromiseStatus.CANCELLED.value,
        or_(
            Promise.promised_date < today,
            Promise.status.in_([PromiseStatus.KEPT.value, PromiseStatus.BROKEN.value]),
        ),
    )


def seconds_between(dialect: str, start: Any, end: Any) -> ColumnElement[float]:
    """``end - start`` in seconds, on PostgreSQL and on SQLite."""
    if dialect == "postgresql":
        return cast(ColumnElement[float], func.extract("epoch", end - start))
    return (func.julianday(end) - func.julianday(start)) * 86400.0


@dataclass
class DayCounts:
    """The counts of one campaign on one day (every rate is derived from these)."""

    attempts: int = 0
    contacts: int = 0
    rpcs: int = 0
    promises: int = 0
    promised_cents: int = 0
    promises_falling_due: int = 0
    promises_kept: int = 0
    promises_settled: int = 0
    collected_cents: int = 0
    assigned_cents: int = 0
    transfers: int = 0
    abandoned: int = 0
    handled: int = 0
    talk_s: float = 0.0
    hold_s: float = 0.0
    wrap_s: float = 0.0

    def add(self, other: DayCounts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


COUNT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(DayCounts))


async def _all(session: AsyncSession, stmt: Any) -> list[Any]:
    return list((await session.execute(stmt)).all())


def _as_day(value: Any) -> dt.date:
    """SQLite returns ``date(...)`` as text."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


async def compute_counts(
    session: AsyncSession,
    day_from: dt.date,
    day_to: dt.date,
    campaign_ids: Collection[int] | None = None,
) -> dict[Key, DayCounts]:
    """Count everything from the facts for ``[day_from, day_to]`` (inclusive).

    The reference computation: the roll-up job stores its result, the
    consistency tests compare the stored rows with it. Only keys with some
    fact are returned.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    out: dict[Key, DayCounts] = {}

    def at(cid: Any, day: Any) -> DayCounts:
        return out.setdefault((int(cid), _as_day(day)), DayCounts())

    def camp(col: Any) -> list[ColumnElement[bool]]:
        conds = [col.is_not(None)]
        if campaign_ids is not None:
            conds.append(col.in_(sorted(campaign_ids)))
        return conds

    a_day = CallAttempt.local_day.between(day_from, day_to)
    counted = and_(is_attempt(), a_day, *camp(CallAttempt.campaign_id))
    rows = await _all(
        session,
        select(
            CallAttempt.campaign_id,
            CallAttempt.local_day,
            func.count(),
            func.count().filter(is_contact()),
            func.count().filter(is_rpc()),
        )
        .where(counted)
        .group_by(CallAttempt.campaign_id, CallAttempt.local_day),
    )
    for cid, day, n, contacts, rpcs in rows:
        c = at(cid, day)
        c.attempts, c.contacts, c.rpcs = int(n), int(contacts), int(rpcs)

    agreement = is_agreement()
    rows = await _all(
        session,
        select(
            CallAttempt.campaign_id,
            CallAttempt.local_day,
            func.count().filter(agreement),
            func.coalesce(func.sum(Promise.amount_cents), 0),
        )
        .join(CallAttempt, CallAttempt.id == Promise.attempt_id)
        .where(counted)
        .group_by(CallAttempt.campaign_id, CallAttempt.local_day),
    )
    for cid, day, n, cents in rows:
        c = at(cid, day)
        c.promises, c.promised_cents = int(n), int(cents)

    kept = Promise.status == PromiseStatus.KEPT.value
    settled = Promise.status.in_([PromiseStatus.KEPT.value, PromiseStatus.BROKEN.value])
    rows = await _all(
        session,
        select(
            Debt.campaign_id,
            Promise.promised_date,
            func.count(),
            func.count().filter(kept),
            func.count().filter(settled),
        )
        .join(Debt, Debt.id == Promise.debt_id)
        .where(
            Promise.promised_date.between(day_from, day_to),
            Promise.status != PromiseStatus.CANCELLED.value,
            *camp(Debt.campaign_id),
        )
        .group_by(Debt.campaign_id, Promise.promised_date),
    )
    for cid, day, n, k, s in rows:
        c = at(cid, day)
        c.promises_falling_due, c.promises_kept, c.promises_settled = int(n), int(k), int(s)

    rows = await _all(
        session,
        select(Debt.campaign_id, Payment.paid_on, func.sum(Payment.amount_cents))
        .join(Debt, Debt.id == Payment.debt_id)
        .where(Payment.paid_on.between(day_from, day_to), *camp(Debt.campaign_id))
        .group_by(Debt.campaign_id, Payment.paid_on),
    )
    for cid, day, cents in rows:
        at(cid, day).collected_cents = int(cents or 0)

    start = dt.datetime.combine(day_from, dt.time(), dt.UTC)
    end = dt.datetime.combine(day_to + dt.timedelta(days=1), dt.time(), dt.UTC)
    created_day = func.date(Debt.created_at)
    rows = await _all(
        session,
        select(Debt.campaign_id, created_day, func.sum(Debt.amount_cents))
        .where(Debt.created_at >= start, Debt.created_at < end, *camp(Debt.campaign_id))
        .group_by(Debt.campaign_id, created_day),
    )
    for cid, day, cents in rows:
        at(cid, day).assigned_cents = int(cents or 0)

    await _transfers(session, dialect, counted, at)
    return out


async def _transfers(session: AsyncSession, dialect: str, counted: Any, at: Any) -> None:
    """Transfers requested in the counted attempts, and their handle time."""
    wrap = aliased(CallEvent)
    wrapped_at = (
        select(func.min(wrap.at))
        .where(wrap.attempt_id == Transfer.attempt_id, wrap.kind == "agent_wrapup")
        .scalar_subquery()
    )
    answered = Transfer.answered_at.is_not(None)
    talk = seconds_between(dialect, Transfer.answered_at, Transfer.ended_at)
    after = seconds_between(dialect, Transfer.ended_at, wrapped_at)
    zero = literal(0.0)
    rows = await _all(
        session,
        select(
            CallAttempt.campaign_id,
            CallAttempt.local_day,
            func.count(),
            func.count().filter(Transfer.status == TransferStatus.ABANDONED.value),
            func.count().filter(answered),
            func.coalesce(func.sum(talk).filter(answered, Transfer.ended_at.is_not(None)), zero),
            func.coalesce(func.sum(Transfer.queue_wait_s).filter(answered), zero),
            func.coalesce(
                func.sum(after).filter(answered, Transfer.ended_at.is_not(None), after > 0), zero
            ),
        )
        .join(CallAttempt, CallAttempt.id == Transfer.attempt_id)
        .where(counted)
        .group_by(CallAttempt.campaign_id, CallAttempt.local_day),
    )
    for cid, day, n, abandoned, handled, talk_s, hold_s, wrap_s in rows:
        c = at(cid, day)
        c.transfers, c.abandoned, c.handled = int(n), int(abandoned), int(handled)
        # Tenths of a second: SQLite's julian-day arithmetic is off by microseconds.
        c.talk_s, c.hold_s, c.wrap_s = (round(float(x or 0), 1) for x in (talk_s, hold_s, wrap_s))


def rate(numerator: float, denominator: float) -> float | None:
    """A ratio rounded for display; None when there is nothing to divide by."""
    return round(numerator / denominator, 4) if denominator else None


@dataclass(frozen=True)
class Kpis:
    """The rates of a day (or of a range: the ratios of its sums)."""

    contact_rate: float | None
    rpc_rate: float | None
    promise_rate: float | None
    promises_due: int
    kept_rate: float | None
    liquidation: float | None
    abandonment_rate: float | None
    aht_s: float | None


def promises_due(c: DayCounts, day: dt.date, today: dt.date) -> int:
    """A day's promises are all due once the day is over; before that, the settled ones."""
    return c.promises_falling_due if day < today else c.promises_settled


def derive(c: DayCounts, *, due: int, assigned_to_date: int) -> Kpis:
    """The rates from the counts; ``due`` from :func:`promises_due` (summed over a
    range), ``assigned_to_date`` the campaign's debts assigned up to the last day."""
    aht = round((c.talk_s + c.hold_s + c.wrap_s) / c.handled, 1) if c.handled else None
    return Kpis(
        contact_rate=rate(c.contacts, c.attempts),
        rpc_rate=rate(c.rpcs, c.attempts),
        promise_rate=rate(c.promises, c.rpcs),
        promises_due=due,
        kept_rate=rate(c.promises_kept, due),
        liquidation=rate(c.collected_cents, assigned_to_date),
        abandonment_rate=rate(c.abandoned, c.transfers),
        aht_s=aht,
    )
