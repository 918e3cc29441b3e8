"""What to send a verified debtor who agreed to pay: the one way to pay that fits.

In this order, the first the debt or its creditor has:

1. the Pix "copia e cola" imported with the debt (the creditor's own code);
2. a static Pix code made from the creditor's Pix key for the exact amount
   promised, its txid naming the promise so reconciliation can match the
   payment (``PRM`` and the promise id; an instalment adds ``P`` and its number);
3. the boleto line imported with the debt;
4. the payment link imported with the debt.

Nothing at all (None) when none of them exists: the caller then says so rather
than inventing a way to pay. Choosing is pure (:func:`choose_payment_details`);
:func:`payment_details_for_promise` reads the promise, debt and creditor first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from ivr.messaging.boleto import format_line
from ivr.messaging.pix import build_static_code
from ivr.store.creditors import CreditorPix, creditor_pix
from ivr.store.models import Debt, Promise
from ivr.vocab.payments import PaymentMethod

TXID_PREFIX = "PRM"


class PayableDebt(Protocol):
    """The parts of a debt the choice reads (a :class:`Debt` row has them)."""

    @property
    def creditor(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def pix_code(self) -> str | None: ...
    @property
    def boleto_line(self) -> str | None: ...
    @property
    def payment_url(self) -> str | None: ...


@dataclass(frozen=True)
class PaymentDetails:
    """One way to pay, ready to relay: ``value`` is the code, the grouped line or the link."""

    method: PaymentMethod
    value: str
    creditor: str
    amount_cents: int
    currency: str
    pay_by: dt.date
    txid: str | None = None  # set when the code was made here for this promise
    # A date and amount the debtor agreed to (a promise), or just what is open
    # when they asked how to pay before promising anything.
    agreed: bool = True


def promise_txid(promise_id: int, instalment: int | None = None) -> str:
    """``PRM0000000042``; its 2nd instalment ``PRM0000000042P02`` (alphanumeric, <= 25)."""
    if promise_id <= 0 or (instalment is not None and not 0 < instalment < 1000):
        raise ValueError("a promise id is positive and an instalment 1..999")
    txid = f"{TXID_PREFIX}{promise_id:010d}"
    return txid if instalment is None else f"{txid}P{instalment:02d}"


def choose_payment_details(
    debt: PayableDebt,
    pix: CreditorPix | None,
    *,
    amount_cents: int,
    pay_by: dt.date,
    txid: str,
    agreed: bool = True,
) -> PaymentDetails | None:
    """The first way to pay the debt or its creditor offers (see the module), or None."""

    def details(method: PaymentMethod, value: str, made: str | None = None) -> PaymentDetails:
        return PaymentDetails(
            method, value, debt.creditor, amount_cents, debt.currency, pay_by, made, agreed
        )

    if debt.pix_code:
        return details(PaymentMethod.PIX_CODE, debt.pix_code)
    if pix is not None and debt.currency == "BRL" and amount_cents > 0:
        code = build_static_code(
            key=pix.key,
            name=pix.merchant_name,
            city=pix.city,
            amount_cents=amount_cents,
            txid=txid,
        )
        return details(PaymentMethod.PIX_GENERATED, code, txid)
    if debt.boleto_line:
        return details(PaymentMethod.BOLETO, format_line(debt.boleto_line))
    if debt.payment_url:
        return details(PaymentMethod.LINK, debt.payment_url)
    return None


async def payment_details_for_promise(
    session: AsyncSession,
    promise_id: int,
    *,
    instalment: int | None = None,
    amount_cents: int | None = None,
    pay_by: dt.date | None = None,
) -> PaymentDetails | None:
    """What to send for a promise (or one instalment of it: pass its number, amount, date).

    None when the promise or its debt is gone, or nothing says how to pay.
    """
    promise = await session.get(Promise, promise_id)
    if promise is None:
        return None
    debt = await session.get(Debt, promise.debt_id)
    if debt is None:
        return None
    return choose_payment_details(
        debt,
        await creditor_pix(session, debt.creditor),
        amount_cents=amount_cents if amount_cents is not None else promise.amount_cents,
        pay_by=pay_by or promise.promised_date,
        txid=promise_txid(promise.id, instalment),
    )
