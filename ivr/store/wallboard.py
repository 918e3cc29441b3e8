"""The wallboard's facts: a handful of aggregate reads, each served by an index.

The wallboard is recomputed within a second of every change, on every
replica that has one open, so each read here is bounded by what is live or
by today, never by the history: live attempts (``ix_call_attempts_status``,
few rows), today's attempts per campaign (``ix_call_attempts_campaign_day``,
which carries the counted columns: an index-only scan on PostgreSQL),
today's and the open transfers (``ix_transfers_requested_at``,
``ix_transfers_open``), agents (a small table), and the planner's hints
(``ix_debtors_next_attempt_at``) read through a bounded window of rows.
The one read that grows with the portfolio, :func:`reachable_debtors`, is
cached by the caller (see ``ivr.web.wallboard_live``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import (
    Agent,
    AuditEntry,
    CallAttempt,
    Campaign,
    Debt,
    Debtor,
    DebtStatus,
    Transfer,
    User,
)
from ivr.vocab.attempts import LIVE_ATTEMPT_STATUSES, AttemptDirection
from ivr.vocab.audit import AuditAction, AuditEntity
from ivr.vocab.transfers import OPEN_TRANSFER_STATUSES

_LIVE = [s.value for s in LIVE_ATTEMPT_STATUSES]
_OPEN = [s.value for s in OPEN_TRANSFER_STATUSES]
#: How many of the planner's hints (due, then next) are read to say which
#: campaigns have someone due now; beyond it a campaign counts as "running".
HINT_WINDOW = 2000


@dataclass(frozen=True)
class LiveCall:
    attempt_id: int
    campaign_id: int | None
    direction: str
    status: str
    debtor_ref: str | None
    claimed_at: dt.datetime
    placed_at: dt.datetime | None
    answered_at: dt.datetime | None


@dataclass(frozen=True)
class OpenTransfer:
    id: int
    attempt_id: int
    agent_id: int | None
    status: str
    requested_at: dt.datetime
    answered_at: dt.datetime | None


@dataclass(frozen=True)
class AgentRow:
    id: int
    name: str
    presence: str
    since: dt.datetime
    wrapup_until: dt.datetime | None


@dataclass(frozen=True)
class CampaignRow:
    id: int
    name: str
    active: bool
    country: str


@dataclass
class DayCounts:
    """A campaign's outbound attempts on its local day."""

    placed: int = 0
    answered: int = 0
    last_claimed_at: dt.datetime | None = None


@dataclass(frozen=True)
class TransferRow:
    campaign_id: int | None
    status: str
    requested_at: dt.datetime
    answered_at: dt.datetime | None


async def live_call_counts(session: AsyncSession) -> list[tuple[int | None, str, str, int]]:
    """(campaign, direction, status, count) of every call not over yet."""
    rows = await session.execute(
        select(CallAttempt.campaign_id, CallAttempt.direction, CallAttempt.status, func.count())
        .where(CallAttempt.status.in_(_LIVE))
        .group_by(CallAttempt.campaign_id, CallAttempt.direction, CallAttempt.status)
    )
    return [(cid, str(d), str(s), int(n)) for cid, d, s, n in rows.all()]


async def live_calls(session: AsyncSession, limit: int) -> list[LiveCall]:
    """The oldest ``limit`` calls not over yet, with the person's reference."""
    rows = await session.execute(
        select(
            CallAttempt.id,
            CallAttempt.campaign_id,
            CallAttempt.direction,
            CallAttempt.status,
            Debtor.external_ref,
            CallAttempt.claimed_at,
            CallAttempt.placed_at,
            CallAttempt.answered_at,
        )
        .outerjoin(Debtor, Debtor.id == CallAttempt.debtor_id)
        .where(CallAttempt.status.in_(_LIVE))
        .order_by(CallAttempt.claimed_at, CallAttempt.id)
        .limit(limit)
    )
    return [LiveCall(r[0], r[1], str(r[2]), str(r[3]), r[4], r[5], r[6], r[7]) for r in rows.all()]


async def open_transfers(session: AsyncSession) -> list[OpenTransfer]:
    """Transfers waiting for an agent or talking with one, oldest first."""
    rows = await session.execute(
        select(
            Transfer.id,
            Transfer.attempt_id,
            Transfer.agent_id,
            Transfer.status,
            Transfer.requested_at,
            Transfer.answered_at,
        )
        .where(Transfer.status.in_(_OPEN))
        .order_by(Transfer.requested_at)
    )
    return [OpenTransfer(r[0], r[1], r[2], str(r[3]), r[4], r[5]) for r in rows.all()]


async def transfers_since(session: AsyncSession, start: dt.datetime) -> list[TransferRow]:
    """Every transfer requested since ``start`` (one day's worth), with its campaign."""
    rows = await session.execute(
        select(
            CallAttempt.campaign_id, Transfer.status, Transfer.requested_at, Transfer.answered_at
        )
        .join(CallAttempt, CallAttempt.id == Transfer.attempt_id)
        .where(Transfer.requested_at >= start)
    )
    return [TransferRow(r[0], str(r[1]), r[2], r[3]) for r in rows.all()]


async def agents(session: AsyncSession) -> list[AgentRow]:
    """Every agent whose account is not disabled, by name."""
    rows = await session.execute(
        select(
            Agent.id, Agent.display_name, Agent.presence, Agent.presence_since, Agent.wrapup_until
        )
        .join(User, User.id == Agent.user_id)
        .where(User.disabled_at.is_(None))
        .order_by(Agent.display_name, Agent.id)
    )
    return [AgentRow(r[0], r[1], str(r[2]), r[3], r[4]) for r in rows.all()]


async def campaigns(session: AsyncSession) -> list[CampaignRow]:
    rows = await session.execute(
        select(Campaign.id, Campaign.name, Campaign.active, Campaign.country).order_by(
            Campaign.name
        )
    )
    return [CampaignRow(r[0], r[1], bool(r[2]), str(r[3] or "BR").upper()) for r in rows.all()]


async def day_counts(session: AsyncSession, days: dict[int, dt.date]) -> dict[int, DayCounts]:
    """Outbound attempts per campaign on the given local day of each (``campaign -> day``)."""
    out: dict[int, DayCounts] = {cid: DayCounts() for cid in days}
    by_day: dict[dt.date, list[int]] = defaultdict(list)
    for cid, day in days.items():
        by_day[day].append(cid)
    for day, ids in by_day.items():
        rows = await session.execute(
            select(
                CallAttempt.campaign_id,
                func.count(),
                func.count(CallAttempt.answered_at),
                func.max(CallAttempt.claimed_at),
            )
            .where(
                CallAttempt.campaign_id.in_(sorted(ids)),
                CallAttempt.local_day == day,
                CallAttempt.direction == AttemptDirection.OUTBOUND,
            )
            .group_by(CallAttempt.campaign_id)
        )
        for row in rows.all():
            out[int(row[0] or 0)] = DayCounts(int(row[1]), int(row[2]), row[3])
    return out


async def reachable_debtors(session: AsyncSession, campaign_ids: Sequence[int]) -> dict[int, int]:
    """People with an open debt in each campaign who have not opted out: the
    base of the day's capacity (each may be called up to the daily cap)."""
    if not campaign_ids:
        return {}
    rows = await session.execute(
        select(Debt.campaign_id, func.count(func.distinct(Debt.debtor_id)))
        .join(Debtor, Debtor.id == Debt.debtor_id)
        .where(
            Debt.campaign_id.in_(sorted(campaign_ids)),
            Debt.status == DebtStatus.OPEN,
            Debtor.opted_out_at.is_(None),
        )
        .group_by(Debt.campaign_id)
    )
    found = {int(r[0] or 0): int(r[1]) for r in rows.all()}
    return {cid: found.get(cid, 0) for cid in campaign_ids}


@dataclass(frozen=True)
class Hints:
    """What the planner's hints say per campaign: someone due now, and the next look."""

    due: frozenset[int]
    next_at: dict[int, dt.datetime]
    complete: bool  # False: more hints than were read; absent campaigns are unknown


async def planner_hints(session: AsyncSession, now: dt.datetime) -> Hints:
    """Campaigns with someone the planner will look at now, and each campaign's
    earliest later look, from at most :data:`HINT_WINDOW` hints each way.

    The planner parks a person it found not callable until the instant the
    rule book names (window opening, gap, cap), so "nobody due" is the rule
    book's "no one callable now", read without evaluating anybody.
    """
    base = select(Debtor.id, Debtor.next_attempt_at).where(Debtor.opted_out_at.is_(None))
    fresh = base.where(Debtor.next_attempt_at.is_(None)).limit(HINT_WINDOW)
    due_q = (
        base.where(Debtor.next_attempt_at <= now)
        .order_by(Debtor.next_attempt_at)
        .limit(HINT_WINDOW)
    )
    later_q = (
        base.where(Debtor.next_attempt_at > now).order_by(Debtor.next_attempt_at).limit(HINT_WINDOW)
    )
    fresh_rows = (await session.execute(fresh)).all()
    due_rows = [*fresh_rows, *(await session.execute(due_q)).all()]
    later_rows = (await session.execute(later_q)).all()
    complete = len(fresh_rows) < HINT_WINDOW and len(due_rows) - len(fresh_rows) < HINT_WINDOW
    due_camps = await _campaigns_of(session, [r[0] for r in due_rows])
    due = frozenset(c for ids in due_camps.values() for c in ids)
    later: dict[int, dt.datetime] = {r[0]: r[1] for r in later_rows if r[1] is not None}
    next_at: dict[int, dt.datetime] = {}
    for debtor_id, camps in (await _campaigns_of(session, list(later))).items():
        for cid in camps:
            at = later[debtor_id]
            if cid not in next_at or at < next_at[cid]:
                next_at[cid] = at
    return Hints(due, next_at, complete)


async def _campaigns_of(session: AsyncSession, debtor_ids: Iterable[int]) -> dict[int, set[int]]:
    ids = sorted(set(debtor_ids))
    out: dict[int, set[int]] = defaultdict(set)
    for i in range(0, len(ids), 500):
        rows = await session.execute(
            select(Debt.debtor_id, Debt.campaign_id).where(
                Debt.debtor_id.in_(ids[i : i + 500]),
                Debt.status == DebtStatus.OPEN,
                Debt.campaign_id.is_not(None),
            )
        )
        for r in rows.all():
            if r[1] is not None:
                out[int(r[0])].add(int(r[1]))
    return out


async def paused_by(
    session: AsyncSession, campaign_ids: Sequence[int]
) -> dict[int, tuple[dt.datetime, str | None]]:
    """When and by whom each campaign was last paused (from the audit log)."""
    if not campaign_ids:
        return {}
    keys = [str(c) for c in campaign_ids]
    rows = await session.execute(
        select(AuditEntry.entity_id, AuditEntry.at, AuditEntry.username)
        .where(
            AuditEntry.entity == AuditEntity.CAMPAIGN,
            AuditEntry.entity_id.in_(keys),
            AuditEntry.action == AuditAction.PAUSE,
        )
        .order_by(AuditEntry.at)
    )
    out: dict[int, tuple[dt.datetime, str | None]] = {}
    for entity_id, at, username in rows.all():
        out[int(entity_id)] = (at, username)  # the latest wins
    return out
