"""The screen pop: everything an agent needs so the debtor never repeats themselves.

Built from the store at delivery time (on the replica the browser is
connected to): who the debtor is, what the debt is, why the machine handed
over, the conversation so far, any promise the debtor tried to make, and
the latest text messages to and from them (SMS: a reply written while the
agent has the debtor on screen arrives as an ``sms`` event with this pop).
An inbound caller who asked for a person before saying who they are has no
debtor and no debt: the screen shows their number and that their identity
is not verified.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ivr.agents import texts
from ivr.store.attempt_history import attempt_events, attempt_promises
from ivr.store.messages import debtor_messages
from ivr.store.models import CallAttempt, CallEvent, Debtor, SmsMessage
from ivr.store.transfers import transfer_call
from ivr.vocab.attempts import AttemptDirection
from ivr.vocab.locales import LOCALES

TRANSCRIPT_KINDS = frozenset({"prompt", "speech", "dtmf", "promise", "transfer", "callback"})
RECENT_MESSAGES = 10


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def transcript_line(event: CallEvent) -> dict[str, Any] | None:
    """One line of the conversation as the agent reads it (who said what)."""
    data = event.data or {}
    if event.kind == "prompt":
        return {"at": _iso(event.at), "who": "ivr", "text": str(data.get("text", ""))}
    if event.kind == "speech":
        line: dict[str, Any] = {
            "at": _iso(event.at),
            "who": "debtor",
            "text": str(data.get("text", "")),
        }
        if data.get("intent"):
            line["intent"] = str(data["intent"])
        if data.get("confidence") is not None:
            line["confidence"] = data["confidence"]
        if data.get("after_hangup"):  # said as they hung up: recorded, never acted on
            line["after_hangup"] = True
        return line
    # Keys and the system's own lines also carry their parts (``keys``, or
    # ``event`` and its values), which the desktop words in the agent's language;
    # ``text`` is the same line for any other reader.
    if event.kind == "dtmf":
        digits = str(data.get("digits", ""))
        return {"at": _iso(event.at), "who": "debtor", "text": f"[keypad {digits}]", "keys": digits}
    if event.kind == "promise":
        return {
            "at": _iso(event.at),
            "who": "system",
            "text": f"[promise {data.get('date')} {data.get('amount_cents')}]",
            "event": "promise",
            "date": data.get("date"),
            "amount_cents": data.get("amount_cents"),
        }
    if event.kind == "transfer":
        return {
            "at": _iso(event.at),
            "who": "system",
            "text": f"[transfer: {data.get('reason')}]",
            "event": "transfer",
            "reason": data.get("reason"),
        }
    if event.kind == "callback":
        return {
            "at": _iso(event.at),
            "who": "system",
            "text": f"[callback {data.get('due_at')}]",
            "event": "callback",
            "due_at": data.get("due_at"),
        }
    return None


def message_line(msg: SmsMessage) -> dict[str, Any]:
    """One text message as the agent reads it (who wrote, what, where it stands)."""
    return {
        "id": msg.id,
        "at": _iso(msg.created_at),
        "who": "debtor" if msg.direction == "inbound" else "ivr",
        "purpose": msg.purpose.value,
        "text": msg.body,
        "status": msg.status.value,
    }


def _debtor_view(debtor: Debtor | None, number: str, locale: str) -> dict[str, Any] | None:
    if debtor is None:  # an inbound caller who has not said who they are
        return None
    return {
        "id": debtor.id,
        "name": debtor.name,
        "first_name": debtor.first_name,
        "locale": locale,
        "phones": [p.e164 for p in debtor.phones],
        "called_number": number,
    }


def _caller_view(debtor: Debtor | None, attempt: CallAttempt, locale: str) -> dict[str, Any]:
    """Who is on the line as far as the service knows. An unidentified inbound
    caller has only a number (caller ID can be forged): the screen says so, and
    that nobody verified them, and shows no debt."""
    inbound = attempt.direction == AttemptDirection.INBOUND
    view: dict[str, Any] = {
        "number": attempt.to_number,
        "direction": str(attempt.direction),
        "identified": debtor is not None,
        # Our calls verify inside the conversation (see the transcript); the
        # person's own calls record the moment they met the inbound policy.
        "verified": attempt.verified_at is not None if inbound else None,
    }
    if debtor is None:
        view["notice"] = texts.unidentified_notice(locale, attempt.to_number)
    return view


async def build_pop(session: AsyncSession, transfer_id: int) -> dict[str, Any] | None:
    found = await transfer_call(session, transfer_id, lock=False)
    if found is None:
        return None
    transfer, attempt, debtor, debt = found.transfer, found.attempt, found.debtor, found.debt
    events = await attempt_events(session, attempt.id, TRANSCRIPT_KINDS)
    transcript = [line for e in events if (line := transcript_line(e)) is not None]
    promise_events = [
        {"date": e.data.get("date"), "amount_cents": e.data.get("amount_cents")}
        for e in events
        if e.kind == "promise"
    ]
    promises = await attempt_promises(session, attempt.id)
    messages = await debtor_messages(session, debtor.id, limit=RECENT_MESSAGES) if debtor else []
    locale = found.locale
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
            # In each language the desktop speaks: the agent may read another than the call's.
            "reason_texts": {loc: texts.reason_words(transfer.reason, loc) for loc in LOCALES},
            "status": transfer.status,
            "requested_at": _iso(transfer.requested_at),
            "answered_at": _iso(transfer.answered_at),
            "ended_at": _iso(transfer.ended_at),
            "outcome": transfer.outcome,
            "notes": transfer.notes,
        },
        "debtor": _debtor_view(debtor, attempt.to_number, locale),
        "caller": _caller_view(debtor, attempt, locale),
        "debt": debt_view,
        "transcript": transcript,
        "messages": [message_line(m) for m in messages],
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
