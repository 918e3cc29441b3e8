"""Loading what the eligibility rules read, for many people in a handful of queries.

The claim evaluates a whole batch of locked debtors at once, so everything
is read set-wise with plain column selects (no ORM objects) into the rows of
``scheduler.snapshot``; the rules themselves never touch the database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import (
    LIVE_ATTEMPT_STATUSES,
    CallAttempt,
    Callback,
    CallbackStatus,
    CallWindow,
    Campaign,
    Debt,
    Debtor,
    DncNumber,
    NumberOptOut,
    PaymentPlan,
    Phone,
    PlanStatus,
    Promise,
    PromiseStatus,
)
from scheduler.batch_sql import id_in, is_pg, pg_fetch
from scheduler.caps import ROLLING_WINDOW, CapPolicy, PastAttempt
from scheduler.eligibility_load_pg import load_snapshots_pg
from scheduler.snapshot import (
    CallbackRow,
    CampaignRules,
    DebtorSnapshot,
    DebtRow,
    PhoneRow,
    PromiseRow,
)
from scheduler.windows import Window, parse_blocked


async def _core(session: AsyncSession, stmt: Any) -> Any:
    """Run a column select on the session's connection: plain rows, no ORM overhead."""
    conn = await session.connection()
    return await conn.execute(stmt)


async def load_campaign_rules(
    session: AsyncSession, campaign_ids: Iterable[int]
) -> dict[int, CampaignRules]:
    """The campaigns' rules with their call windows, in one query (a campaign's
    columns come once per window)."""
    ids = sorted(set(campaign_ids))
    if not ids:
        return {}
    rows = (
        await pg_fetch(session, _PG_RULES, ids)
        if is_pg(session)
        else await _core(
            session,
            select(
                Campaign.id,
                Campaign.active,
                Campaign.country,
                Campaign.daily_cap,
                Campaign.weekly_cap,
                Campaign.min_gap_minutes,
                Campaign.quiet_days_after_rpc,
                Campaign.blocked_dates,
                Campaign.max_concurrent_calls,
                Campaign.paid_pause_business_days,
                Campaign.retry_delays_minutes,
                Campaign.followup_after_broken_days,
                Campaign.inbound_suppresses_today,
                CallWindow.weekday,
                CallWindow.start,
                CallWindow.end,
            )
            .outerjoin(CallWindow, CallWindow.campaign_id == Campaign.id)
            .where(id_in(session, Campaign.id, ids))
            .order_by(Campaign.id, CallWindow.id),
        )
    )
    wins: dict[int, list[Window]] = defaultdict(list)
    first: dict[int, Any] = {}
    for r in rows:
        first.setdefault(r[0], r)
        if r[13] is not None:
            wins[r[0]].append(Window(r[13], r[14], r[15]))
    return {cid: _rules(r, tuple(wins.get(cid, ()))) for cid, r in first.items()}


# load_campaign_rules' columns, for the driver's plain rows (PostgreSQL).
_PG_RULES = """
SELECT c.id, c.active, c.country, c.daily_cap, c.weekly_cap, c.min_gap_minutes,
    c.quiet_days_after_rpc, c.blocked_dates, c.max_concurrent_calls,
    c.paid_pause_business_days, c.retry_delays_minutes, c.followup_after_broken_days,
    c.inbound_suppresses_today, w.weekday, w.start, w."end"
FROM campaigns c LEFT JOIN call_windows w ON w.campaign_id = c.id
WHERE c.id = ANY($1::int[]) ORDER BY c.id, w.id
"""


def _json_list(value: Any) -> list[Any]:
    """A JSON list column as the driver gave it (decoded, or its text)."""
    if isinstance(value, str):
        return list(json.loads(value) or [])
    return list(value or [])


def _rules(r: Any, windows: tuple[Window, ...]) -> CampaignRules:
    return CampaignRules(
        id=r[0],
        active=r[1],
        country=str(r[2] or "BR").upper(),
        policy=CapPolicy(
            daily_cap=r[3],
            weekly_cap=r[4],
            min_gap=dt.timedelta(minutes=r[5]),
            quiet_days_after_contact=r[6],
            retry_delays=tuple(dt.timedelta(minutes=int(m)) for m in _json_list(r[10])),
        ),
        windows=windows,
        blocked=parse_blocked(_json_list(r[7])),
        max_concurrent=r[8],
        paid_pause_business_days=r[9],
        followup_after_broken_days=r[11],
        inbound_suppresses_today=bool(r[12]),
    )


async def load_snapshots(
    session: AsyncSession,
    debtor_ids: Sequence[int],
    now: dt.datetime,
    *,
    people: dict[int, tuple[Any, ...]] | None = None,
) -> tuple[dict[int, DebtorSnapshot], dict[int, CampaignRules]]:
    """Load what :func:`evaluate` needs for many debtors in a handful of queries
    (PostgreSQL: one, see ``scheduler.eligibility_load_pg``, which also takes
    the ``people``'s own columns a lock already read), with the rules of
    every campaign their debts are in."""
    ids = list(dict.fromkeys(debtor_ids))
    if not ids:
        return {}, {}
    if session.get_bind().dialect.name != "postgresql":
        return await load_snapshots_portable(session, ids, now)
    snaps = await load_snapshots_pg(session, ids, now, people)
    used = {d.campaign_id for s in snaps.values() for d in s.debts if d.campaign_id is not None}
    return snaps, await load_campaign_rules(session, used)


async def load_snapshots_portable(
    session: AsyncSession, ids: Sequence[int], now: dt.datetime
) -> tuple[dict[int, DebtorSnapshot], dict[int, CampaignRules]]:
    """:func:`load_snapshots` in plain SQL that every backend runs (SQLite's path)."""
    snaps: dict[int, DebtorSnapshot] = {}
    phones_seen: set[int] = set()
    debt_ids: list[int] = []
    campaign_ids: set[int] = set()
    # One round trip for the person, their numbers and their debts (the
    # product is small: people have one or two of each).
    rows = (
        await _core(
            session,
            select(
                Debtor.id,
                Debtor.country,
                Debtor.region,
                Debtor.timezone,
                Debtor.opted_out_at,
                Debtor.quiet_until,
                Debtor.status.label("debtor_status"),
                Debtor.calls_allowed,
                Phone.id.label("phone_id"),
                Phone.e164,
                Phone.position,
                Phone.wrong_number_at,
                Phone.number_country,
                Phone.number_zones,
                NumberOptOut.created_at.label("number_opted_out_at"),
                Debt.id.label("debt_id"),
                Debt.status,
                Debt.campaign_id,
                Debt.due_date,
                Debt.paused_until,
            )
            .select_from(Debtor)
            .outerjoin(Phone, Phone.debtor_id == Debtor.id)
            .outerjoin(NumberOptOut, NumberOptOut.e164 == Phone.e164)
            .outerjoin(Debt, Debt.debtor_id == Debtor.id)
            .where(id_in(session, Debtor.id, ids))
            .order_by(Debtor.id, Phone.position, Phone.id, Debt.id),
        )
    ).all()
    for r in rows:
        snap = snaps.get(r.id)
        if snap is None:
            snap = snaps[r.id] = DebtorSnapshot(
                r.id, r.country, r.region, r.timezone, r.opted_out_at, r.quiet_until
            )
            snap.status = str(r.debtor_status)
            snap.calls_allowed = bool(r.calls_allowed)
        if r.phone_id is not None and r.phone_id not in phones_seen:
            phones_seen.add(r.phone_id)
            snap.phones.append(
                PhoneRow(
                    r.phone_id,
                    r.e164,
                    r.position,
                    r.wrong_number_at,
                    r.number_opted_out_at,
                    number_country=r.number_country,
                    number_zones=r.number_zones,
                )
            )
        if r.debt_id is not None and all(d.id != r.debt_id for d in snap.debts):
            snap.debts.append(
                DebtRow(r.debt_id, str(r.status), r.campaign_id, r.due_date, r.paused_until)
            )
            debt_ids.append(r.debt_id)
            if r.campaign_id is not None:
                campaign_ids.add(r.campaign_id)
    await _load_dnc(session, snaps, list(ids))
    campaigns = await load_campaign_rules(session, campaign_ids)

    quiet = max((c.policy.quiet_days_after_contact for c in campaigns.values()), default=0)
    lookback = max(ROLLING_WINDOW, dt.timedelta(days=max(quiet, 7))) + dt.timedelta(days=1)
    live = [s.value for s in LIVE_ATTEMPT_STATUSES]
    for ra in (
        await _core(
            session,
            select(
                CallAttempt.debtor_id,
                CallAttempt.id,
                CallAttempt.claimed_at,
                CallAttempt.status,
                CallAttempt.outcome,
                CallAttempt.ended_at,
                CallAttempt.phone_id,
                CallAttempt.direction,
                CallAttempt.verified_at,
            ).where(
                id_in(session, CallAttempt.debtor_id, ids),
                # A long call (or one settled late) counts from when it ended.
                or_(
                    CallAttempt.claimed_at > now - lookback,
                    CallAttempt.ended_at > now - lookback,
                    CallAttempt.status.in_(live),
                ),
            ),
        )
    ).all():
        snaps[ra.debtor_id].attempts.append(
            PastAttempt(
                ra.claimed_at,
                str(ra.status),
                ra.outcome,
                ra.ended_at,
                ra.phone_id,
                ra.id,
                str(ra.direction),
                ra.verified_at,
            )
        )
    if debt_ids:
        debt_owner = {d.id: s.id for s in snaps.values() for d in s.debts}
        # Open promises, and the ones broken recently enough for the
        # follow-up wait to hold (not those of a plan the money completed).
        followup = max((c.followup_after_broken_days for c in campaigns.values()), default=0)
        broken_since = now.date() - dt.timedelta(days=followup + 2)
        for rq in (
            await _core(
                session,
                select(
                    Promise.id,
                    Promise.debt_id,
                    Promise.promised_date,
                    Promise.status,
                    PaymentPlan.status.label("plan_status"),
                )
                .outerjoin(PaymentPlan, PaymentPlan.id == Promise.plan_id)
                .where(
                    id_in(session, Promise.debt_id, debt_ids),
                    or_(
                        Promise.status == PromiseStatus.OPEN,
                        and_(
                            Promise.status == PromiseStatus.BROKEN,
                            Promise.promised_date >= broken_since,
                            or_(
                                PaymentPlan.status.is_(None),
                                PaymentPlan.status.in_([PlanStatus.OPEN, PlanStatus.BROKEN]),
                            ),
                        ),
                    ),
                ),
            )
        ).all():
            snaps[debt_owner[rq.debt_id]].promises.append(
                PromiseRow(
                    rq.id,
                    rq.debt_id,
                    rq.promised_date,
                    str(rq.status),
                    shields=rq.plan_status != PlanStatus.BROKEN,
                )
            )
    for rc in (
        await _core(
            session,
            select(Callback.debtor_id, Callback.id, Callback.debt_id, Callback.due_at).where(
                id_in(session, Callback.debtor_id, ids), Callback.status == CallbackStatus.PENDING
            ),
        )
    ).all():
        snaps[rc.debtor_id].callbacks.append(CallbackRow(rc.id, rc.debt_id, rc.due_at))
    return snaps, campaigns


async def _load_dnc(
    session: AsyncSession, snaps: dict[int, DebtorSnapshot], ids: list[int]
) -> None:
    """Mark each number with the do-not-call lists it is on: one indexed join
    for the whole batch (most numbers are on none, so it returns few rows)."""
    listed: dict[int, list[str]] = defaultdict(list)
    for row in (
        await _core(
            session,
            select(Phone.id, DncNumber.list_name)
            .join(DncNumber, DncNumber.e164 == Phone.e164)
            .where(id_in(session, Phone.debtor_id, ids))
            .order_by(Phone.id, DncNumber.list_name),
        )
    ).all():
        listed[row.id].append(row.list_name)
    if not listed:
        return
    for snap in snaps.values():
        snap.phones = [
            dataclasses.replace(p, dnc_lists=tuple(listed[p.id])) if p.id in listed else p
            for p in snap.phones
        ]
