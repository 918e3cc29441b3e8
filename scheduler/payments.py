"""Payments: record one, or import a bank/creditor CSV, and stop calls at once.

A payment that settles a debt marks it paid, cancels the pending callbacks
and the claimed-but-not-yet-placed attempts for it in the same transaction,
and settles its open promises (kept if paid on or before the promised date,
broken otherwise); the instalments of a plan are filled in order by the
payments (``scheduler.plans``). A CSV import lands every good row and reports every bad
one with its line number and reason; re-importing a file is harmless
(``payment_ref`` is unique).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ivr.store.amounts import AmountInvalid
from ivr.store.amounts import parse_amount as read_amount
from ivr.store.attempt_cancel import cancel_attempts
from ivr.store.csvfile import read_table
from ivr.store.import_report import ImportReport, RowError, RowRejected
from ivr.store.models import (
    AttemptStatus,
    CallAttempt,
    Callback,
    CallbackStatus,
    Debt,
    Debtor,
    DebtStatus,
    Payment,
    Promise,
    PromiseStatus,
    utcnow,
)
from ivr.vocab.row_errors import RowErrorCode
from scheduler.plans import settle_plans

REQUIRED_COLUMNS = ("external_ref", "amount", "paid_on", "payment_ref")


class PaymentRejected(RowRejected):
    """A payment that cannot be recorded; the message says why, for the importer's report
    (with its code and values, for the console)."""


@dataclass(frozen=True)
class PaymentResult:
    payment_id: int | None
    debt_id: int
    duplicate: bool = False
    debt_paid: bool = False
    promises_kept: int = 0
    promises_broken: int = 0
    callbacks_cancelled: int = 0
    attempts_cancelled: int = 0


@dataclass
class PaymentImportReport(ImportReport):
    """Payments recorded, files' rows already known, debts now paid, and every rejected line."""

    imported: int = 0
    duplicates: int = 0
    debts_paid: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_amount(text: str) -> int:
    """Cents from "1234.56", "1.234,56", "R$ 1.234,56", "$1,234.56", "1234".

    The same reading as the debtor import (``ivr.store.amounts``), so an
    amount means one thing in every file a supervisor brings; a bad one is a
    :class:`PaymentRejected`, like every other reason a payment cannot land.
    """
    try:
        return read_amount(text or "")
    except AmountInvalid as exc:
        raise PaymentRejected(str(exc), exc.code, exc.params) from None


def parse_paid_on(text: str, today: dt.date) -> dt.date:
    """YYYY-MM-DD or DD/MM/YYYY; never a future date."""
    text = (text or "").strip()
    day: dt.date | None = None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
        if m:
            try:
                day = dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
            except ValueError:
                day = None
    if day is None:
        raise PaymentRejected(
            f"paid_on {text!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)",
            RowErrorCode.DATE_INVALID,
            {"column": "paid_on", "value": text, "format": "dmy"},
        )
    if day > today + dt.timedelta(days=1):
        raise PaymentRejected(
            f"paid_on {text} is in the future",
            RowErrorCode.DATE_FUTURE,
            {"column": "paid_on", "value": text},
        )
    return day


async def resolve_debt(session: AsyncSession, external_ref: str) -> Debt:
    """The debt a payment reference points at.

    ``debt:<id>`` names a debt; otherwise ``external_ref`` is the debtor's and
    the payment goes to their open debt with the oldest due date.
    """
    ref = (external_ref or "").strip()
    if not ref:
        raise PaymentRejected(
            "external_ref is empty", RowErrorCode.EMPTY, {"column": "external_ref"}
        )
    if ref.startswith("debt:") and ref[5:].isdigit():
        debt = await session.get(Debt, int(ref[5:]))
        if debt is None:
            raise PaymentRejected(f"no debt {ref}", RowErrorCode.DEBT_UNKNOWN, {"value": ref})
        return debt
    debtor_id = await session.scalar(select(Debtor.id).where(Debtor.external_ref == ref))
    if debtor_id is None:
        raise PaymentRejected(
            f"no debtor with external_ref {ref!r}", RowErrorCode.DEBTOR_UNKNOWN, {"value": ref}
        )
    debt = await session.scalar(
        select(Debt)
        .where(Debt.debtor_id == debtor_id, Debt.status == DebtStatus.OPEN)
        .order_by(Debt.due_date, Debt.id)
        .limit(1)
    )
    if debt is None:
        raise PaymentRejected(
            f"debtor {ref!r} has no open debt", RowErrorCode.NO_OPEN_DEBT, {"value": ref}
        )
    return debt


async def record_payment(
    session: AsyncSession,
    *,
    debt_id: int,
    amount_cents: int,
    paid_on: dt.date,
    payment_ref: str | None,
    now: dt.datetime | None = None,
) -> PaymentResult:
    """Record a payment and apply its consequences; the caller commits.

    Idempotent on ``payment_ref``. The debt row is locked so two imports of
    payments for one debt settle it once.
    """
    now = now or utcnow()
    if amount_cents <= 0:
        raise PaymentRejected(
            "amount must be positive",
            RowErrorCode.AMOUNT_NOT_POSITIVE,
            {"value": f"{amount_cents / 100:.2f}"},
        )
    debt = await session.scalar(
        select(Debt)
        .where(Debt.id == debt_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if debt is None:
        raise PaymentRejected(
            f"no debt {debt_id}", RowErrorCode.DEBT_UNKNOWN, {"value": f"debt:{debt_id}"}
        )
    if payment_ref:
        existing = await session.scalar(
            select(Payment.id).where(Payment.external_ref == payment_ref)
        )
        if existing is not None:
            return PaymentResult(existing, debt_id, duplicate=True)
    payment = Payment(
        debt_id=debt_id, amount_cents=amount_cents, paid_on=paid_on, external_ref=payment_ref
    )
    session.add(payment)
    await session.flush()
    total = int(
        await session.scalar(
            select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
                Payment.debt_id == debt_id
            )
        )
        or 0
    )
    became_paid = debt.status is DebtStatus.OPEN and total >= debt.amount_cents
    kept = broken = cb_cancelled = att_cancelled = 0
    if became_paid:
        debt.status = DebtStatus.PAID
        debt.paid_at = now
        debt.paused_until = None
    promises = (
        await session.scalars(
            select(Promise).where(
                Promise.debt_id == debt_id,
                Promise.status == PromiseStatus.OPEN,
                Promise.plan_id.is_(None),  # instalments: settled plan by plan below
            )
        )
    ).all()
    for p in promises:
        by_date = int(
            await session.scalar(
                select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
                    Payment.debt_id == debt_id, Payment.paid_on <= p.promised_date
                )
            )
            or 0
        )
        if by_date >= p.amount_cents or (
            debt.status is DebtStatus.PAID and paid_on <= p.promised_date
        ):
            p.status = PromiseStatus.KEPT
            kept += 1
        elif debt.status is DebtStatus.PAID:
            p.status = PromiseStatus.BROKEN  # paid, but after the promised date
            broken += 1
    # A plan's instalments are filled in order by the money, not each compared
    # with everything paid by its date (which would keep the second with the first).
    plans = await settle_plans(
        session,
        debt_id,
        today=None,
        paid_off_on=paid_on if debt.status is DebtStatus.PAID else None,
    )
    kept += plans.kept
    broken += plans.broken
    if debt.status is DebtStatus.PAID:
        other_open = await session.scalar(
            select(func.count())
            .select_from(Debt)
            .where(
                Debt.debtor_id == debt.debtor_id,
                Debt.status == DebtStatus.OPEN,
                Debt.id != debt.id,
            )
        )
        cb_filter = Callback.debt_id == debt.id
        if not other_open:
            cb_filter = or_(cb_filter, Callback.debt_id.is_(None))
        res = await session.execute(
            update(Callback)
            .where(
                Callback.debtor_id == debt.debtor_id,
                Callback.status == CallbackStatus.PENDING,
                cb_filter,
            )
            .values(status=CallbackStatus.CANCELLED)
        )
        cb_cancelled = int(getattr(res, "rowcount", 0) or 0)
        att_cancelled = await cancel_attempts(
            session,
            CallAttempt.debt_id == debt.id,
            CallAttempt.status == AttemptStatus.CLAIMED,
            why="the debt was paid before the call was placed",
            now=now,
        )
    return PaymentResult(
        payment.id,
        debt_id,
        debt_paid=became_paid,
        promises_kept=kept,
        promises_broken=broken,
        callbacks_cancelled=cb_cancelled,
        attempts_cancelled=att_cancelled,
    )


async def import_payments_csv(
    sessions: async_sessionmaker[AsyncSession],
    path: str | Path,
    *,
    now: dt.datetime | None = None,
    encoding: str | None = None,
) -> PaymentImportReport:
    """Import payments; each row lands or fails on its own (line numbers count the header as 1).

    The file is read by ``ivr.store.csvfile`` like the debtor import: UTF-8
    unless ``encoding`` names another (a bad byte refuses the file, naming
    its line), and a broken line is reported without costing the others.
    """
    now = now or utcnow()
    report = PaymentImportReport()
    table = await asyncio.to_thread(read_table, Path(path), encoding)
    missing = table.missing(REQUIRED_COLUMNS)
    if missing:
        columns = ", ".join(missing)
        report.errors.append(
            RowError(
                1,
                "missing column(s): " + columns,
                code=RowErrorCode.COLUMNS_MISSING,
                params={"columns": columns},
            )
        )
        return report
    for record in table.records:
        line, row = record.line, record.values
        if record.error is not None:
            report.errors.append(record.row_error())
            continue
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        try:
            amount = parse_amount(row.get("amount") or "")
            paid_on = parse_paid_on(row.get("paid_on") or "", now.date())
            ref = (row.get("payment_ref") or "").strip()
            if not ref:
                raise PaymentRejected(
                    "payment_ref is empty", RowErrorCode.EMPTY, {"column": "payment_ref"}
                )
            async with sessions() as s, s.begin():
                seen = await s.scalar(select(Payment.id).where(Payment.external_ref == ref))
                if seen is not None:
                    report.duplicates += 1
                    continue
                debt = await resolve_debt(s, row.get("external_ref") or "")
                result = await record_payment(
                    s,
                    debt_id=debt.id,
                    amount_cents=amount,
                    paid_on=paid_on,
                    payment_ref=ref,
                    now=now,
                )
        except PaymentRejected as exc:
            report.errors.append(RowError.of(line, exc))
            continue
        if result.duplicate:
            report.duplicates += 1
        else:
            report.imported += 1
            report.debts_paid += int(result.debt_paid)
    return report
