"""Payment details by SMS to the verified debtor who said yes in the call.

The call's :class:`~ivr.calls.ports.PaymentDetailsPort`: it loads the
debtor, this call's number, the promise(s) made in the call (else the open
debt) and the creditor; asks whether a ``payment_details`` SMS may go now
with the debtor on the line; builds the text with
:mod:`ivr.messaging.payment_details` and :mod:`ivr.messaging.sms_texts`; and
writes it with :func:`ivr.messaging.outbox.write_outbox` and sends it
with :func:`ivr.messaging.outbox.deliver` from the callback
number of the debtor's country. It never raises for a refusal or a carrier
failure: the call goes on and the turn log says what happened.

:func:`check_number` asks the SMS rule book (``scheduler.eligibility_sms``)
with the debtor on the line; the call context asks it too
(``CallContext.sms_possible``), so a debtor who cannot be texted is never asked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.callback_numbers import callback_number_for
from ivr.messaging.outbox import OutgoingSms, deliver, write_outbox
from ivr.messaging.payment_details import (
    PaymentDetails,
    choose_payment_details,
    payment_details_for_promise,
)
from ivr.messaging.sms_texts import payment_message
from ivr.store.creditors import creditor_pix
from ivr.store.models import CallAttempt, Campaign, Debt, Debtor, Promise, utcnow
from ivr.telephony.rest import TwilioCalls
from ivr.vocab.messages import SmsPurpose
from scheduler.eligibility_sms import evaluate_sms
from scheduler.eligibility_sms_load import load_sms_view
from scheduler.reasons_sms import sms_phones

log = structlog.get_logger(__name__)

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


@dataclass(frozen=True)
class SmsCheck:
    """The rule book's answer for this call's number: None when it may go."""

    refusal: str | None
    local_day: dt.date | None


async def check_number(
    session: AsyncSession, debtor_id: int, to_number: str, campaign_id: int | None, now: dt.datetime
) -> SmsCheck:
    """May a ``payment_details`` SMS go to ``to_number`` (this call's number) now,
    with the debtor on the line? The SMS rule book decides (consent, opt-outs,
    a mobile number, the day's cap; the windows are waived on a live call), and
    the number must be one of the person's numbers an SMS may go to."""
    view = await load_sms_view(session, debtor_id, now, campaign_id=campaign_id)
    if view is None:
        return SmsCheck("no_debtor", None)
    verdict = evaluate_sms(
        view.snap,
        view.facts,
        view.campaigns,
        now,
        SmsPurpose.PAYMENT_DETAILS,
        on_call=True,
        campaign_id=campaign_id,
    )
    if not verdict.allowed:
        return SmsCheck(",".join(verdict.codes) or "no_mobile_number", verdict.local_day)
    if to_number not in {p.e164 for p in sms_phones(view.snap)}:
        return SmsCheck("call_number_not_mobile", verdict.local_day)
    return SmsCheck(None, verdict.local_day)


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
        agreed=False,
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
    check = await check_number(
        session, debtor.id, attempt.to_number, campaign.id if campaign else None, utcnow()
    )
    debt = await session.get(Debt, attempt.debt_id) if attempt.debt_id else None
    if check.refusal is not None or check.local_day is None or debt is None:
        return False
    return await open_debt_details(session, debt, check.local_day) is not None


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
            # The rules are asked and the outbox row written under the person's
            # row lock, as the reminders do: two sends at once cannot both fit
            # under the day's cap.
            async with self.sessions() as s, s.begin():
                await s.scalar(select(Debtor.id).where(Debtor.id == debtor_id).with_for_update())
                message = await self._message(
                    s, attempt_id, debtor_id, debt_id, to_number, locale, promises
                )
                if message.sms is None:
                    return PaymentDetailsResult(False, message.reason)
                message_id = await write_outbox(s, message.sms)
            sent = await deliver(
                self.sessions, self.carrier, self.public_url, message_id, message.sms
            )
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
        check = await check_number(s, debtor.id, to_number, debt.campaign_id, utcnow())
        if check.refusal is not None or check.local_day is None:
            return _Message(None, check.refusal or "no_debtor")
        today = check.local_day
        rows = await promises_of_call(s, attempt_id, promises) if promises else []
        # Only what the next payment needs: the first promise of the call (a
        # plan's later parts get their own details when they come up).
        details = (
            await payment_details_for_promise(s, rows[0].id)
            if rows
            else await open_debt_details(s, debt, today)
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
                local_day=today,
                debt_id=debt.id,
                promise_id=rows[0].id if rows else None,
                campaign_id=campaign.id if campaign else None,
                attempt_id=attempt_id,
            )
        )
