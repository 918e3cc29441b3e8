"""The screen pop: everything an agent needs so the debtor never repeats themselves.

Built from the store at delivery time (on the replica the browser is
connected to): who the debtor is, what the debt is, why the machine handed
over, the conversation so far, and any promise the debtor tried to make.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.agents import texts
from ivr.store.models import (
    CallAttempt,
    CallEvent,
    Debt,
    Debtor,
    Promise,
    Transfer,
)

TRANSCRIPT_KINDS = frozenset({"prompt", "speech", "dtmf", "promise", "transfer", "callback"})


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def transcript_line(event: CallEvent) -> dict[str, Any] | None:
    """One line of the conversation as the agent reads it (who said what)."""
    data = event.data or {}
    if event.kind == "prompt":
        return {"at": _iso(event.at), "who": "ivr", "text": str(data.get("text", ""))}
    if event.kind == "speech":
        line = {"at": _iso(event.at), "who": "debtor", "text": str(data.get("text", ""))}
        if data.get("intent"):
            line["intent"] = str(data["intent"])
        if data.get("confidence") is not None:
            line["confidence"] = data["confidence"]
        return line
    if event.kind == "dtmf":
        digits = data.get("digits", "")
        return {"at": _iso(event.at), "who": "debtor", "text": f"[keypad {digits}]"}
    if event.kind == "promise":
        return {
            "at": _iso(event.at),
            "who": "system",
            "text": f"[promise {data.get('date')} {data.get('amount_cents')}]",
        }
    if event.kind == "transfer":
        return {"at": _iso(event.at), "who": "system", "text": f"[transfer: {data.get('reason')}]"}
    if event.kind == "callback":
        return {"at": _iso(event.at), "who": "system", "text": f"[callback {data.get('due_at')}]"}
    return None


async def build_pop(session: AsyncSession, transfer_id: int) -> dict[str, Any] | None:
    transfer = await session.get(Transfer, transfer_id)
    if transfer is None:
        return None
    attempt = await session.get(CallAttempt, transfer.attempt_id)
    if attempt is None:
        return None
    debtor = await session.get(Debtor, attempt.debtor_id)
    assert debtor is not None
    debt = await session.get(Debt, attempt.debt_id) if attempt.debt_id else None
    events = (
        await session.scalars(
            select(CallEvent)
            .where(CallEvent.attempt_id == attempt.id, CallEvent.kind.in_(TRANSCRIPT_KINDS))
            .order_by(CallEvent.id)
        )
    ).all()
    transcript = [line for e in events if (line := transcript_line(e)) is not None]
    promise_events = [
        {"date": e.data.get("date"), "amount_cents": e.data.get("amount_cents")}
        for e in events
        if e.kind == "promise"
    ]
    promises = (
        await session.scalars(
            select(Promise).where(Promise.attempt_id == attempt.id).order_by(Promise.id)
        )
    ).all()
    locale = debtor.locale
    debt_view: dict[str, Any] | None = None
    if debt is not None:
        debt_view = {
            "id": debt.id,
            "creditor": debt.creditor,
            "amount_cents": debt.amount_cents,
            "currency": debt.currency,
            "amount_display": texts.money(debt.amount_cents, debt.currency, locale),
            "due_date": debt.due_date.isoformat(),
            "status": debt.status.value,
        }
    return {
        "transfer": {
            "id": transfer.id,
            "reason": transfer.reason,
            "reason_text": texts.reason_words(transfer.reason, locale),
            "status": transfer.status,
            "requested_at": _iso(transfer.requested_at),
            "answered_at": _iso(transfer.answered_at),
            "ended_at": _iso(transfer.ended_at),
            "outcome": transfer.outcome,
            "notes": transfer.notes,
        },
        "debtor": {
            "id": debtor.id,
            "name": debtor.name,
            "first_name": debtor.first_name,
            "locale": locale,
            "phones": [p.e164 for p in debtor.phones],
            "called_number": attempt.to_number,
        },
        "debt": debt_view,
        "transcript": transcript,
        "promise_attempts": promise_events
        or [
            {"date": p.promised_date.isoformat(), "amount_cents": p.amount_cents} for p in promises
        ],
        "promises": [
            {
                "id": p.id,
                "date": p.promised_date.isoformat(),
                "amount_cents": p.amount_cents,
                "status": p.status.value,
                "source": p.source,
            }
            for p in promises
        ],
    }
