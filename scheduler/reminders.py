"""Reminder SMS before a promised date or instalment: one per promise, inside the rules.

For each open promise (an instalment of a plan is a promise too) the reminder
is due on the debtor's local day ``promised_date - reminder_days_before``
(the campaign's; 0 turns reminders off), or any later day up to the promised
date itself if it could not go then (outside the windows, the day's SMS cap
taken, a holiday). Never on the day the promise was made: it was just read
back to them.

At send time, in one transaction that holds the person's row lock (``FOR
UPDATE SKIP LOCKED``: another replica, or the dialer's claim, working on the
same person is simply skipped until the next run) and the promise's, the job
re-reads the promise and the debt (a payment recorded meanwhile settled
them), checks that no reminder for the promise exists, asks the SMS rule book
(:func:`scheduler.eligibility_sms_load.check_sms`) and writes the outbox row;
the carrier is asked only after that commit. A unique partial index on
``sms_messages (promise_id) WHERE purpose = 'reminder' AND status <> 'failed'``
backs the check: two replicas can never both hold a live reminder for one
promise. A send the carrier refused (``failed``) may be tried once more on a
later run (:data:`REMINDER_TRIES`), then stays in the history.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.callback_numbers import callback_number_for
from ivr.messaging.outbox import OutgoingSms, SendResult, write_outbox
from ivr.messaging.sms_texts import reminder_message
from ivr.store.models import (
    Campaign,
    Debt,
    Debtor,
    DebtStatus,
    Phone,
    Promise,
    PromiseStatus,
    SmsMessage,
)
from ivr.vocab.debtors import DebtorStatus
from ivr.vocab.locales import DEFAULT_LOCALE
from ivr.vocab.messages import SmsPurpose, SmsStatus
from scheduler.eligibility_sms_load import check_sms
from scheduler.windows import local_day
from scheduler.zones import primary_zone

log = structlog.get_logger(__name__)

# How many times a reminder the carrier refused is tried (then it stays refused).
REMINDER_TRIES = 2

# Ask the carrier to send an outbox row already committed (``ivr.messaging.outbox.deliver``).
DeliverSms = Callable[[int, OutgoingSms], Awaitable[SendResult]]


@dataclass
class ReminderReport:
    """What one run did: sent (accepted by the carrier), refused by the carrier,
    held by the rule book, and passed over (settled, already sent, locked)."""

    sent: int = 0
    refused: int = 0
    held: int = 0
    passed: int = 0
    held_codes: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def reminder_due(
    promised_date: dt.date, days_before: int, today: dt.date, made_on: dt.date
) -> bool:
    """Whether a reminder may go on the debtor's local ``today`` (pure).

    From the reminder day through the promised date, never on the day the
    promise was made; ``days_before`` 0 means the campaign sends none.
    """
    if days_before <= 0:
        return False
    return promised_date - dt.timedelta(days=days_before) <= today <= promised_date and (
        made_on < today
    )


async def _candidates(session: AsyncSession, now: dt.datetime, limit: int) -> list[Any]:
    """Open promises whose reminder may be due on someone's local today, with no
    live reminder yet (the rule book and the lock decide the rest)."""
    longest = await session.scalar(select(func.max(Campaign.reminder_days_before)))
    if not longest or longest <= 0:
        return []
    # A debtor's local day is within one day of UTC's in the zones we serve.
    utc_day = now.date()
    live = (
        select(SmsMessage.id)
        .where(
            SmsMessage.promise_id == Promise.id,
            SmsMessage.purpose == SmsPurpose.REMINDER,
            SmsMessage.status != SmsStatus.FAILED,
        )
        .exists()
    )
    refused = (
        select(func.count(SmsMessage.id))
        .where(
            SmsMessage.promise_id == Promise.id,
            SmsMessage.purpose == SmsPurpose.REMINDER,
            SmsMessage.status == SmsStatus.FAILED,
        )
        .scalar_subquery()
    )
    return list(
        (
            await session.execute(
                select(
                    Promise.id,
                    Promise.promised_date,
                    Promise.created_at,
                    Debt.debtor_id,
                    Debtor.timezone,
                    Debtor.country,
                    Campaign.reminder_days_before,
                )
                .join(Debt, Debt.id == Promise.debt_id)
                .join(Debtor, Debtor.id == Debt.debtor_id)
                .join(Campaign, Campaign.id == Debt.campaign_id)
                .where(
                    Promise.status == PromiseStatus.OPEN,
                    Promise.promised_date >= utc_day - dt.timedelta(days=1),
                    Promise.promised_date <= utc_day + dt.timedelta(days=int(longest) + 1),
                    Debt.status == DebtStatus.OPEN,
                    Campaign.reminder_days_before > 0,
                    Debtor.status == DebtorStatus.ACTIVE,
                    Debtor.sms_opted_out_at.is_(None),
                    Debtor.sms_allowed.is_(True),
                    ~live,
                    refused < REMINDER_TRIES,
                )
                .order_by(Promise.promised_date, Promise.id)
                .limit(limit)
            )
        ).all()
    )


async def _due_now(session: AsyncSession, rows: list[Any], now: dt.datetime) -> list[Any]:
    """The candidates whose reminder is due on their debtor's local today."""
    if not rows:
        return []
    phones: dict[int, list[Any]] = defaultdict(list)
    for p in (
        await session.execute(
            select(Phone.debtor_id, Phone.e164, Phone.wrong_number_at)
            .where(Phone.debtor_id.in_({r.debtor_id for r in rows}))
            .order_by(Phone.debtor_id, Phone.position, Phone.id)
        )
    ).all():
        phones[p.debtor_id].append(p)
    due = []
    for r in rows:
        zone = primary_zone(r.timezone, phones[r.debtor_id], r.country)
        today = local_day(now, zone)
        made_on = local_day(r.created_at, zone)
        if reminder_due(r.promised_date, r.reminder_days_before, today, made_on):
            due.append(r)
    return due


async def send_reminders(
    sessions: async_sessionmaker[AsyncSession],
    deliver: DeliverSms,
    now: dt.datetime,
    callback_numbers: Mapping[str, str],
    *,
    limit: int = 1000,
) -> ReminderReport:
    """One run of the reminder job: every due reminder the rules allow now, once."""
    report = ReminderReport()
    async with sessions() as s:
        due = await _due_now(s, await _candidates(s, now, limit), now)
    for row in due:
        try:
            outgoing = await _reserve(
                sessions, row.id, row.debtor_id, now, callback_numbers, report
            )
        except IntegrityError:  # another replica wrote this promise's reminder first
            report.passed += 1
            continue
        if outgoing is None:
            continue
        message_id, sms = outgoing
        result = await deliver(message_id, sms)
        if result.status is SmsStatus.FAILED:
            report.refused += 1
        else:
            report.sent += 1
    if report.sent or report.refused:
        log.info(
            "reminders.sent",
            sent=report.sent,
            refused=report.refused,
            held=report.held,
            passed=report.passed,
        )
    return report


async def _reserve(
    sessions: async_sessionmaker[AsyncSession],
    promise_id: int,
    debtor_id: int,
    now: dt.datetime,
    callback_numbers: Mapping[str, str],
    report: ReminderReport,
) -> tuple[int, OutgoingSms] | None:
    """Under the person's and the promise's row locks: re-check everything and
    write the outbox row; (row id, message) to deliver, or None."""
    async with sessions() as s, s.begin():
        locked = await s.scalar(
            select(Debtor.id).where(Debtor.id == debtor_id).with_for_update(skip_locked=True)
        )
        if locked is None:  # another replica or a claim holds the person: next run
            report.passed += 1
            return None
        promise = await s.scalar(
            select(Promise)
            .where(Promise.id == promise_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        debt = await s.get(Debt, promise.debt_id) if promise is not None else None
        if (
            promise is None
            or debt is None
            or promise.status is not PromiseStatus.OPEN
            or debt.status is not DebtStatus.OPEN
        ):
            report.passed += 1  # kept, paid or cancelled since the candidates were read
            return None
        tries = await _reminders_written(s, promise_id)
        if tries["live"] or tries["failed"] >= REMINDER_TRIES:
            report.passed += 1
            return None
        verdict = await check_sms(
            s, debtor_id, now, SmsPurpose.REMINDER, campaign_id=debt.campaign_id
        )
        if not verdict.allowed or verdict.to_number is None:
            report.held += 1
            for code in verdict.codes:
                report.held_codes[code] += 1
            return None
        debtor = await s.get(Debtor, debtor_id)
        campaign = await s.get(Campaign, debt.campaign_id) if debt.campaign_id else None
        assert debtor is not None
        from_ = callback_number_for(
            debtor.country, campaign.callback_number if campaign else None, callback_numbers
        )
        if not from_:
            report.held += 1
            report.held_codes["no_from_number"] += 1
            log.warning("reminders.no_from_number", country=debtor.country)
            return None
        locale = str(debtor.locale or (campaign.locale if campaign else DEFAULT_LOCALE))
        sms = OutgoingSms(
            debtor_id=debtor_id,
            to=verdict.to_number,
            from_=from_,
            body=reminder_message(
                locale,
                creditor=debt.creditor,
                amount_cents=promise.amount_cents,
                currency=debt.currency,
                pay_by=promise.promised_date,
            ),
            purpose=SmsPurpose.REMINDER,
            local_day=verdict.local_day,
            debt_id=debt.id,
            promise_id=promise.id,
            campaign_id=debt.campaign_id,
        )
        return await write_outbox(s, sms), sms


async def _reminders_written(s: AsyncSession, promise_id: int) -> dict[str, int]:
    """The promise's reminders so far: live (not refused) and refused."""
    rows = (
        await s.execute(
            select(SmsMessage.status, func.count())
            .where(SmsMessage.promise_id == promise_id, SmsMessage.purpose == SmsPurpose.REMINDER)
            .group_by(SmsMessage.status)
        )
    ).all()
    failed = sum(int(n) for status, n in rows if status == SmsStatus.FAILED)
    live = sum(int(n) for status, n in rows if status != SmsStatus.FAILED)
    return {"live": live, "failed": failed}
