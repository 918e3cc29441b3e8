"""A data subject's LGPD requests: everything the store holds about a person, and
their anonymisation.

Export (LGPD art. 18, II): every row that names the person or hangs off them,
column by column, as JSON-ready data: nothing is summarised away.

Anonymisation (art. 18, IV and VI) keeps what the law requires the creditor to
keep (art. 16, I: the debt, its payments, promises and plans, and the log of
the request itself) and removes what identifies the person: the name becomes
a placeholder, the phones, document hash and birth year go, the words heard
and said on calls (speech, prompts, keys), agents' notes and SMS bodies are
emptied, the numbers on call and message rows are blanked. The person is then
never contacted again (opted out of calls and SMS, pending callbacks
cancelled). Recordings are deleted at the carrier by the caller first (the
store cannot reach the carrier): :func:`kept_recordings` lists them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.audit import audit_number
from ivr.store.models import (
    Base,
    CallAttempt,
    Callback,
    CallbackStatus,
    CallEvent,
    Debt,
    Debtor,
    DebtorAction,
    DebtorReview,
    OptOut,
    Payment,
    PaymentPlan,
    Phone,
    Promise,
    SmsMessage,
    Transfer,
)
from ivr.store.name_key import fold_name

ANONYMISED_NAME = "(anonymised)"
# Call events that carry what a person said or keyed, or what was said to them.
WORDS_EVENT_KINDS = (
    "speech",
    "transcript",
    "recording",
    "asr",
    "heard",
    "prompt",
    "dtmf",
    "lookup",
)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


def row_dict(row: Base) -> dict[str, Any]:
    """A row's every column as JSON-ready values."""
    return {c.key: _plain(getattr(row, c.key)) for c in row.__mapper__.column_attrs}


async def _rows(s: AsyncSession, model: type[Base], where: Any) -> list[dict[str, Any]]:
    pk = model.__mapper__.primary_key[0]
    return [row_dict(r) for r in (await s.scalars(select(model).where(where).order_by(pk))).all()]


async def export_data(s: AsyncSession, debtor: Debtor) -> dict[str, Any]:
    """Everything the store holds about ``debtor``, table by table."""
    debt_ids = [d.id for d in debtor.debts]
    attempt_ids = list(
        (await s.scalars(select(CallAttempt.id).where(CallAttempt.debtor_id == debtor.id))).all()
    )
    return {
        "debtor": row_dict(debtor),
        "phones": [row_dict(p) for p in debtor.phones],
        "debts": [row_dict(d) for d in sorted(debtor.debts, key=lambda d: d.id)],
        "payments": await _rows(s, Payment, Payment.debt_id.in_(debt_ids)),
        "payment_plans": await _rows(s, PaymentPlan, PaymentPlan.debt_id.in_(debt_ids)),
        "promises": await _rows(s, Promise, Promise.debt_id.in_(debt_ids)),
        "callbacks": await _rows(s, Callback, Callback.debtor_id == debtor.id),
        "opt_outs": await _rows(s, OptOut, OptOut.debtor_id == debtor.id),
        "calls": await _rows(s, CallAttempt, CallAttempt.id.in_(attempt_ids)),
        "call_events": await _rows(s, CallEvent, CallEvent.attempt_id.in_(attempt_ids)),
        "transfers": await _rows(s, Transfer, Transfer.attempt_id.in_(attempt_ids)),
        "sms_messages": await _rows(s, SmsMessage, SmsMessage.debtor_id == debtor.id),
        "reviews": await _rows(s, DebtorReview, DebtorReview.debtor_id == debtor.id),
        "requests": await _rows(s, DebtorAction, DebtorAction.debtor_id == debtor.id),
    }


async def kept_recordings(s: AsyncSession, debtor_id: int) -> list[tuple[int, str]]:
    """(attempt id, recording sid) of the person's recordings still at the carrier."""
    rows = await s.execute(
        select(CallAttempt.id, CallAttempt.recording_sid).where(
            CallAttempt.debtor_id == debtor_id,
            CallAttempt.recording_sid.is_not(None),
            CallAttempt.recording_deleted_at.is_(None),
        )
    )
    return [(int(i), str(sid)) for i, sid in rows.all()]


async def anonymise(s: AsyncSession, debtor: Debtor, now: dt.datetime) -> dict[str, int]:
    """Remove what identifies the person; keep the debt and the money. Counts what changed."""
    attempt_ids = list(
        (await s.scalars(select(CallAttempt.id).where(CallAttempt.debtor_id == debtor.id))).all()
    )
    counts: dict[str, int] = {"phones": len(debtor.phones), "calls": len(attempt_ids)}
    debtor.name = ANONYMISED_NAME
    debtor.name_key = fold_name(ANONYMISED_NAME)
    debtor.document_digits = None
    debtor.birth_year = None
    debtor.region = None
    debtor.opted_out_at = debtor.opted_out_at or now
    debtor.sms_opted_out_at = debtor.sms_opted_out_at or now
    debtor.calls_allowed = debtor.sms_allowed = False
    debtor.preferred_channel = None
    debtor.next_attempt_at = None
    await s.execute(delete(Phone).where(Phone.debtor_id == debtor.id))
    debtor.phones.clear()
    if attempt_ids:
        words = await s.execute(
            delete(CallEvent).where(
                CallEvent.attempt_id.in_(attempt_ids), CallEvent.kind.in_(WORDS_EVENT_KINDS)
            )
        )
        counts["call_events"] = int(getattr(words, "rowcount", 0) or 0)
        await s.execute(
            update(CallAttempt)
            .where(CallAttempt.id.in_(attempt_ids))
            .values(to_number="", error=None, recording_url=None)
        )
        notes = await s.execute(
            update(Transfer)
            .where(Transfer.attempt_id.in_(attempt_ids), Transfer.notes.is_not(None))
            .values(notes=None)
        )
        counts["notes"] = int(getattr(notes, "rowcount", 0) or 0)
    sms = await s.execute(
        update(SmsMessage)
        .where(SmsMessage.debtor_id == debtor.id)
        .values(body="", to_number="", from_number="", error=None)
    )
    counts["sms"] = int(getattr(sms, "rowcount", 0) or 0)
    await s.execute(
        update(DebtorReview).where(DebtorReview.debtor_id == debtor.id).values(e164=None)
    )
    await s.execute(
        update(Callback)
        .where(Callback.debtor_id == debtor.id, Callback.status == CallbackStatus.PENDING)
        .values(status=CallbackStatus.CANCELLED)
    )
    counts["actions_cleared"] = await _clear_actions(s, debtor.id)
    counts["debts_kept"] = len(
        (await s.scalars(select(Debt.id).where(Debt.debtor_id == debtor.id))).all()
    )
    return counts


PERSONAL_ACTION_FIELDS = ("note", "number")
"""What a supervisor's action about a person may hold that identifies them: the
free text typed with it, the number marked wrong."""


async def _clear_actions(s: AsyncSession, debtor_id: int) -> int:
    """Keep the log of what was done about the person (the law asks for it),
    without what identifies them: notes go, a number is kept masked."""
    actions = (
        await s.scalars(select(DebtorAction).where(DebtorAction.debtor_id == debtor_id))
    ).all()
    cleared = 0
    for action in actions:
        detail = dict(action.detail or {})
        if not any(k in detail for k in PERSONAL_ACTION_FIELDS):
            continue
        detail.pop("note", None)
        if "number" in detail:
            detail["number"] = audit_number(str(detail["number"]))
        action.detail = detail
        cleared += 1
    return cleared
