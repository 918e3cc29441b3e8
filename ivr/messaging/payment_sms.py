"""Payment details by SMS to the verified debtor who said yes in the call.

The call's :class:`~ivr.calls.ports.PaymentDetailsPort`: it loads the
debtor, this call's number, the promise(s) made in the call (else the open
debt) and the creditor; asks whether a ``payment_details`` SMS may go now
with the debtor on the line; builds the text with
:mod:`ivr.messaging.payment_details` and :mod:`ivr.messaging.sms_texts`; and
sends it through :func:`ivr.messaging.outbox.send_sms` from the callback
number of the debtor's country. It never raises for a refusal or a carrier
failure: the call goes on and the turn log says what happened.

:func:`sms_refusal` is the one place that says whether the SMS may go; the
call context asks it too (``CallContext.sms_possible``), so a debtor who cannot
be texted is never asked. Until the SMS rule book is on main it checks what
the store says directly: the person's status, SMS opt-out and consent, a
mobile number not blocked at the number, and the campaign's SMS cap of the day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import phonenumbers
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.callback_numbers import callback_number_for
from ivr.messaging.outbox import OutgoingSms, send_sms
from ivr.messaging.payment_details import (
    PaymentDetails,
    choose_payment_details,
    payment_details_for_promise,
)
from ivr.messaging.sms_texts import payment_message
from ivr.store.creditors import creditor_pix
from ivr.store.messages import sent_on_day
from ivr.store.models import CallAttempt, Campaign, Debt, Debtor, NumberOptOut, Promise, utcnow
from ivr.telephony.rest import TwilioCalls
from ivr.vocab.debtors import NO_CONTACT_STATUSES
from ivr.vocab.messages import SmsPurpose
from scheduler.zones import primary_zone

log = structlog.get_logger(__name__)

DEFAULT_SMS_DAILY_CAP = 1  # ``Campaign.sms_daily_cap`` when the debt has no campaign
# Countries whose plan does not tell a mobile from a landline: their numbers may be texted.
AMBIGUOUS_MOBILE_COUNTRIES = frozenset({"US"})
# The reference of a Pix code made for the open debt (no promise to name).
DEBT_TXID = "DBT{:010d}"


@dataclass(frozen=True)
class PaymentDetailsResult:
    """What became of the request: sent (the carrier took it), or why not."""

    sent: bool
    reason: str = ""  # why not: a rule's code, "nothing_to_send", "carrier_refused"...
    message_id: int | None = None
    error_code: int | None = None

    def event(self) -> tuple[str, dict[str, Any]]:
        """The call event for the turn log: ``sms_sent`` or ``sms_not_sent``."""
        data: dict[str, Any] = {"purpose": SmsPurpose.PAYMENT_DETAILS.value}
        if self.message_id is not None:
            data["sms_id"] = self.message_id
        if self.sent:
            return "sms_sent", data
        data["reason"] = self.reason
        if self.error_code is not None:
            data["error_code"] = self.error_code
        return "sms_not_sent", data


def is_mobile(e164: str) -> bool:
    """A number an SMS can reach: a mobile, or a number of a country whose plan cannot tell."""
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return False
    if not phonenumbers.is_valid_number(parsed):
        return False
    kind = phonenumbers.number_type(parsed)
    return kind == phonenumbers.PhoneNumberType.MOBILE or (
        kind == phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE
        and phonenumbers.region_code_for_number(parsed) in AMBIGUOUS_MOBILE_COUNTRIES
    )


def local_day(debtor: Debtor, now: dt.datetime) -> dt.date:
    """The debtor's day, which the SMS cap counts by."""
    from zoneinfo import ZoneInfo

    zone = primary_zone(debtor.timezone, debtor.phones, debtor.country)
    return now.astimezone(ZoneInfo(zone)).date()


async def sms_refusal(
    session: AsyncSession,
    debtor: Debtor,
    to_number: str,
    campaign: Campaign | None,
    now: dt.datetime,
) -> str | None:
    """Why a ``payment_details`` SMS may not go to ``to_number`` now, with the
    debtor on the line (so the calling windows do not apply); None: it may."""
    if debtor.status in NO_CONTACT_STATUSES:
        return "deceased_review"
    if debtor.sms_opted_out_at is not None:
        return "sms_opted_out"
    if not debtor.sms_allowed:
        return "sms_not_allowed"
    if not is_mobile(to_number):
        return "not_mobile"
    if any(p.e164 == to_number and p.wrong_number_at is not None for p in debtor.phones):
        return "wrong_number"
    if await session.scalar(select(NumberOptOut.id).where(NumberOptOut.e164 == to_number)):
        return "number_opted_out"
    cap = campaign.sms_daily_cap if campaign is not None else DEFAULT_SMS_DAILY_CAP
    if await sent_on_day(session, debtor.id, local_day(debtor, now)) >= cap:
        return "sms_daily_cap"
    return None


async def open_debt_details(
    session: AsyncSession, debt: Debt, today: dt.date
) -> PaymentDetails | None:
    """How to pay the whole open debt today (asked for before any promise)."""
    return choose_payment_details(
        debt,
        await creditor_pix(session, debt.creditor),
        amount_cents=debt.amount_cents,
        pay_by=today,
        txid=DEBT_TXID.format(debt.id),
    )


async def promises_of_call(
    session: AsyncSession, attempt_id: int, promised: Sequence[tuple[dt.date, int]]
) -> list[Promise]:
    """This call's promises that match what the dialog promised, by date."""
    rows = await session.scalars(
        select(Promise)
        .where(Promise.attempt_id == attempt_id)
        .order_by(Promise.promised_date, Promise.id)
    )
    wanted = set(promised)
    return [p for p in rows if (p.promised_date, p.amount_cents) in wanted]


async def sms_possible(
    session: AsyncSession, attempt: CallAttempt, debtor: Debtor, campaign: Campaign | None
) -> bool:
    """Whether the call may offer payment details by SMS: it may go to this
    call's number now, and the debt has a way to pay to send."""
    now = utcnow()
    if await sms_refusal(session, debtor, attempt.to_number, campaign, now) is not None:
        return False
    debt = await session.get(Debt, attempt.debt_id) if attempt.debt_id else None
    return debt is not None and (
        await open_debt_details(session, debt, local_day(debtor, now)) is not None
    )


@dataclass(frozen=True)
class _Message:
    sms: OutgoingSms | None
    reason: str = ""


class PaymentDetailsSms:
    """The :class:`~ivr.calls.ports.PaymentDetailsPort` that sends by SMS."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        carrier: TwilioCalls,
        public_url: str,
        callback_numbers: Mapping[str, str],
    ) -> None:
        self.sessions, self.carrier = sessions, carrier
        self.public_url, self.callback_numbers = public_url, dict(callback_numbers)

    async def request(
        self,
        *,
        attempt_id: int,
        debtor_id: int,
        debt_id: int | None,
        to_number: str,
        locale: str,
        promises: tuple[tuple[dt.date, int], ...] = (),
    ) -> PaymentDetailsResult:
        try:
            async with self.sessions() as s:
                message = await self._message(
                    s, attempt_id, debtor_id, debt_id, to_number, locale, promises
                )
            if message.sms is None:
                return PaymentDetailsResult(False, message.reason)
            sent = await send_sms(self.sessions, self.carrier, self.public_url, message.sms)
        except Exception as exc:  # a failure here must never end the call
            log.exception("sms.payment_details_failed", attempt_id=attempt_id)
            return PaymentDetailsResult(False, f"error: {type(exc).__name__}")
        if sent.accepted:
            return PaymentDetailsResult(True, "", sent.message_id)
        # Refused (its code kept on the row), or no answer: it may or may not have left.
        why = "carrier_refused" if sent.error_code is not None else "carrier_unknown"
        return PaymentDetailsResult(False, why, sent.message_id, sent.error_code)

    async def _message(
        self,
        s: AsyncSession,
        attempt_id: int,
        debtor_id: int,
        debt_id: int | None,
        to_number: str,
        locale: str,
        promises: tuple[tuple[dt.date, int], ...],
    ) -> _Message:
        """The message to send, or why none may go."""
        debtor = await s.get(Debtor, debtor_id)
        debt = await s.get(Debt, debt_id) if debt_id else None
        if debtor is None or debt is None:
            return _Message(None, "no_debt")
        campaign = await s.get(Campaign, debt.campaign_id) if debt.campaign_id else None
        now = utcnow()
        refusal = await sms_refusal(s, debtor, to_number, campaign, now)
        if refusal is not None:
            return _Message(None, refusal)
        rows = await promises_of_call(s, attempt_id, promises) if promises else []
        # Only what the next payment needs: the first promise of the call (a
        # plan's later parts get their own details when they come up).
        details = (
            await payment_details_for_promise(s, rows[0].id)
            if rows
            else await open_debt_details(s, debt, local_day(debtor, now))
        )
        if details is None:
            return _Message(None, "nothing_to_send")
        sender = callback_number_for(
            debtor.country, campaign.callback_number if campaign else None, self.callback_numbers
        )
        if not sender:
            return _Message(None, "no_sender_number")
        return _Message(
            OutgoingSms(
                debtor_id=debtor.id,
                to=to_number,
                from_=sender,
                body=payment_message(details, locale),
                purpose=SmsPurpose.PAYMENT_DETAILS,
                local_day=local_day(debtor, now),
                debt_id=debt.id,
                promise_id=rows[0].id if rows else None,
                campaign_id=campaign.id if campaign else None,
                attempt_id=attempt_id,
            )
        )
