"""Periodic housekeeping: promise follow-up and retention of personal call data
(the events that hold it, and the call recordings kept at the carrier)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import structlog
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.store.models import (
    CallEvent,
    Debt,
    Debtor,
    DebtStatus,
    Payment,
    Phone,
    Promise,
    PromiseStatus,
)
from ivr.store.recordings import mark_recording_deleted, recordings_due
from scheduler.carrier import DeleteRecording
from scheduler.plans import settle_plans
from scheduler.windows import local_day
from scheduler.zones import primary_zone

log = structlog.get_logger(__name__)

# Call events that hold what the debtor said (or a recording of it): personal
# data kept only for the retention period (LGPD; 90 days by default).
# "prompt" rows hold what the service said, with the name, amount and dates.
PERSONAL_EVENT_KINDS = ("speech", "transcript", "recording", "asr", "heard", "prompt")


async def follow_up_promises(
    sessions: async_sessionmaker[AsyncSession], now: dt.datetime, *, limit: int = 1000
) -> dict[str, int]:
    """On the day after a promised date (debtor's local calendar) settle the promise.

    Kept if the debt is paid or payments on or before the date cover the
    promised amount; broken otherwise, and the planner is woken for the
    debtor (the rule book says when they may be called again: the
    campaign's follow-up days after a broken promise). An instalment of a
    plan is settled with its whole plan (``scheduler.plans``): the payments
    fill the instalments in order.
    """
    counts = {"kept": 0, "broken": 0}
    # Local "today" is at most one day ahead of UTC's in the zones we serve.
    horizon = now.date() + dt.timedelta(days=1)
    async with sessions() as s, s.begin():
        rows = (
            await s.execute(
                select(
                    Promise.id,
                    Promise.debt_id,
                    Promise.promised_date,
                    Promise.amount_cents,
                    Promise.plan_id,
                    Debt.status,
                    Debt.paid_at,
                    Debt.debtor_id,
                    Debtor.timezone,
                    Debtor.country,
                )
                .join(Debt, Debt.id == Promise.debt_id)
                .join(Debtor, Debtor.id == Debt.debtor_id)
                .where(Promise.status == PromiseStatus.OPEN, Promise.promised_date < horizon)
                .order_by(Promise.promised_date, Promise.id)
                .limit(limit)
                .with_for_update(of=Promise, skip_locked=True)
            )
        ).all()
        if not rows:
            return counts
        phones: dict[int, list[Any]] = defaultdict(list)
        for p in (
            await s.execute(
                select(Phone.debtor_id, Phone.e164, Phone.wrong_number_at)
                .where(Phone.debtor_id.in_({r.debtor_id for r in rows}))
                .order_by(Phone.debtor_id, Phone.position, Phone.id)
            )
        ).all():
            phones[p.debtor_id].append(p)
        woken: set[int] = set()
        plan_debts: dict[int, tuple[int, dt.date, dt.date | None]] = {}
        for r in rows:
            zone = primary_zone(r.timezone, phones[r.debtor_id], r.country)
            today = local_day(now, zone)
            if r.promised_date >= today:
                continue
            if r.plan_id is not None:
                paid_off = r.paid_at.date() if r.status == DebtStatus.PAID and r.paid_at else None
                plan_debts[r.debt_id] = (r.debtor_id, today, paid_off)
                continue
            paid = await s.scalar(
                select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
                    Payment.debt_id == r.debt_id, Payment.paid_on <= r.promised_date
                )
            )
            kept = r.status == DebtStatus.PAID or int(paid or 0) >= r.amount_cents
            status = PromiseStatus.KEPT if kept else PromiseStatus.BROKEN
            await s.execute(update(Promise).where(Promise.id == r.id).values(status=status))
            counts["kept" if kept else "broken"] += 1
            if not kept:
                woken.add(r.debtor_id)
        for debt_id, (debtor_id, today, paid_off) in plan_debts.items():
            settled = await settle_plans(s, debt_id, today=today, paid_off_on=paid_off)
            counts["kept"] += settled.kept
            counts["broken"] += settled.broken
            if settled.broken:
                woken.add(debtor_id)
        if woken:
            await s.execute(
                update(Debtor)
                .where(Debtor.id.in_(woken))
                .values(next_attempt_at=None, updated_at=Debtor.updated_at)
            )
    return counts


async def purge_personal_data(
    sessions: async_sessionmaker[AsyncSession], now: dt.datetime, retention_days: int
) -> int:
    """Delete speech/transcript/recording events older than the retention period."""
    cutoff = now - dt.timedelta(days=retention_days)
    async with sessions() as s, s.begin():
        result = await s.execute(
            delete(CallEvent).where(CallEvent.kind.in_(PERSONAL_EVENT_KINDS), CallEvent.at < cutoff)
        )
        return int(getattr(result, "rowcount", 0) or 0)


async def purge_recordings(
    sessions: async_sessionmaker[AsyncSession],
    delete_at_carrier: DeleteRecording,
    now: dt.datetime,
    retention_days: int,
    *,
    limit: int = 500,
) -> int:
    """Delete at the carrier the recordings older than the retention period.

    A recording is marked deleted in the store only after the carrier
    confirmed it (deleted now, or already gone); when the carrier fails, the
    recording stays as it was and the next run tries again. Returns how many
    were deleted.
    """
    cutoff = now - dt.timedelta(days=retention_days)
    async with sessions() as s:
        due = await recordings_due(s, cutoff, limit)
    deleted = 0
    for attempt_id, recording_sid in due:
        try:
            await delete_at_carrier(recording_sid)
        except Exception as exc:  # the carrier did not confirm: keep it, retry next run
            log.warning(
                "retention.recording_delete_failed",
                attempt_id=attempt_id,
                recording_sid=recording_sid,
                error=str(exc),
            )
            continue
        async with sessions() as s, s.begin():
            if await mark_recording_deleted(s, attempt_id, recording_sid, now):
                deleted += 1
    if due:
        log.info("retention.recordings_deleted", deleted=deleted, due=len(due))
    return deleted
