"""What a call knows about the person when it starts, built from the store.

The dialog is told who it speaks to (:class:`CallContext`); the recorder is
told the debtor's calendar, because a paused debt or a callback is dated in
the debtor's zone, business days and holidays, not the server's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from ivr.callback_numbers import callback_number_for
from ivr.dialog.events import CallContext
from ivr.messaging.payment_sms import sms_possible
from ivr.plan_rules import DEFAULT_MAX_INSTALMENTS, DEFAULT_MAX_PLAN_DAYS
from ivr.store.call_attempts import count_other_attempts_with_outcome
from ivr.store.creditors import spoken_form
from ivr.store.models import Debtor, utcnow
from ivr.store.queries import AttemptContext, load_attempt_context
from ivr.vocab.attempts import AttemptDirection
from ivr.vocab.debts import ClosedDayPromise
from ivr.vocab.locales import DEFAULT_LOCALE, LOCALES
from ivr.vocab.outcomes import RIGHT_PARTY_OUTCOMES
from ivr.vocab.verification import INBOUND_DEFAULT, OUTBOUND_DEFAULT
from scheduler.zones import primary_zone

CALLBACK_DEFAULT_DELAY = dt.timedelta(hours=4)
DEFAULT_PAID_PAUSE_DAYS = 2  # without a campaign


def debtor_zone(debtor: Debtor) -> ZoneInfo:
    """The zone whose calendar the call speaks in: the one the scheduler dates
    attempts by (record, else the numbers' first candidate, else the country's)."""
    return ZoneInfo(primary_zone(debtor.timezone, debtor.phones, debtor.country))


@dataclass(frozen=True)
class DebtorCalendar:
    """Where the debtor lives, for dates the call records in their calendar."""

    zone: ZoneInfo
    country: str
    region: str | None
    paid_pause_days: int  # the campaign's business days of quiet after "I paid"

    def paid_pause_until(self) -> dt.datetime:
        """N business days (no weekends, no holidays) in the debtor's calendar."""
        from scheduler.windows import add_business_days

        return add_business_days(
            utcnow(), self.paid_pause_days, self.zone.key, self.country, self.region
        )

    def callback_due(self, at: dt.datetime | None) -> dt.datetime:
        if at is None:
            return utcnow() + CALLBACK_DEFAULT_DELAY
        if at.tzinfo is None:
            at = at.replace(tzinfo=self.zone)
        return at.astimezone(dt.UTC)


@dataclass(frozen=True)
class CallSetup:
    """What an accepted stream needs before its first word."""

    context: CallContext
    calendar: DebtorCalendar
    answered_by: str | None

    @property
    def machine_answered(self) -> bool:
        """The carrier's answering-machine detection already said "not a person"."""
        return bool(self.answered_by and self.answered_by.startswith(("machine", "fax")))


async def load_call_setup(
    session: AsyncSession, attempt_id: int, callback_numbers: Mapping[str, str] | None = None
) -> CallSetup | None:
    """None when the attempt no longer exists. ``callback_numbers``: country ->
    the configured callback number (``Settings.callback_numbers()``)."""
    data = await load_attempt_context(session, attempt_id)
    if data is None:
        return None
    debtor, campaign = data.debtor, data.campaign
    zone = debtor_zone(debtor)
    calendar = DebtorCalendar(
        zone=zone,
        country=debtor.country,
        region=debtor.region,
        paid_pause_days=(
            campaign.paid_pause_business_days if campaign is not None else DEFAULT_PAID_PAUSE_DAYS
        ),
    )
    context = await build_call_context(session, data, zone, callback_numbers)
    return CallSetup(context, calendar, data.attempt.answered_by)


async def build_call_context(
    session: AsyncSession,
    data: AttemptContext,
    zone: ZoneInfo,
    callback_numbers: Mapping[str, str] | None = None,
) -> CallContext:
    debtor, debt, campaign = data.debtor, data.debt, data.campaign
    inbound = data.attempt.direction == AttemptDirection.INBOUND
    earlier_contacts = await count_other_attempts_with_outcome(
        session, debtor.id, data.attempt.id, RIGHT_PARTY_OUTCOMES
    )
    locale = debtor.locale or (campaign.locale if campaign else DEFAULT_LOCALE.value)
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE.value
    spoken = await spoken_form(session, debt.creditor, locale) if debt else None
    return CallContext(
        locale=locale,
        first_name=debtor.first_name,
        creditor=debt.creditor if debt else "",
        creditor_spoken=spoken or "",
        company=campaign.company_name if campaign else "Central de Atendimento",
        amount_cents=debt.amount_cents if debt else 0,
        currency=debt.currency if debt else ("USD" if locale == "en-US" else "BRL"),
        due_date=debt.due_date if debt else utcnow().astimezone(zone).date(),
        today=utcnow().astimezone(zone).date(),
        birth_year=debtor.birth_year,
        verification=(
            (campaign.inbound_verification_policy if campaign else INBOUND_DEFAULT)
            if inbound
            else (campaign.verification_policy if campaign else OUTBOUND_DEFAULT)
        ),
        document_digits=debtor.document_digits,
        max_promise_days=campaign.max_promise_days if campaign else 30,
        # The offer is three instalments, fewer when the campaign allows fewer.
        installments=min(3, campaign.max_instalments) if campaign else 3,
        max_instalments=campaign.max_instalments if campaign else DEFAULT_MAX_INSTALMENTS,
        max_plan_days=campaign.max_plan_days if campaign else DEFAULT_MAX_PLAN_DAYS,
        first_contact=not earlier_contacts,
        # The debtor's own country's number, never a foreign one (ivr.callback_numbers).
        callback_number=callback_number_for(
            debtor.country,
            campaign.callback_number if campaign else None,
            callback_numbers or {},
        ),
        country=debtor.country,
        region=debtor.region,
        promise_on_closed_day=(
            campaign.promise_on_closed_day if campaign else ClosedDayPromise.NEXT_BUSINESS_DAY
        ),
        recorded=bool(data.attempt.recording_requested),
        sms_possible=bool(debt) and await sms_possible(session, data.attempt, debtor, campaign),
        inbound=inbound,
        debtor_id=debtor.id,
    )
