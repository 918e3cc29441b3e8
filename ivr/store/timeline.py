"""A person's whole history as one list, newest first: every call with its turns,
transfers and agents' wrap-ups, promises and instalment plans, payments,
callbacks, opt-outs, text messages, reviews and supervisors' actions.

Each entry is ``(kind, at, id, detail)``; the console draws one row per entry
and the LGPD export hands the same list over. A fixed number of queries
whatever the history's length (one per kind), so a person with years of calls
costs the same round trips as a new one. Searching people by name, reference
or phone lives here too: it is what opens a timeline.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.models import (
    Agent,
    CallAttempt,
    Callback,
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

# The call events that make a turn: what the service said, what it heard or
# the keys pressed, and the silences between.
TURN_KINDS = ("prompt", "speech", "dtmf", "silence", "lookup")


@dataclass(frozen=True)
class Entry:
    kind: str
    at: dt.datetime
    id: int
    detail: dict[str, Any]


def _turn(e: CallEvent) -> dict[str, Any]:
    data = e.data or {}
    turn: dict[str, Any] = {"at": e.at.isoformat(), "kind": e.kind}
    for key in ("state", "prompt_id", "text", "intent", "digits", "confidence", "after_hangup"):
        if data.get(key) is not None:
            turn[key] = data[key]
    return turn


async def _calls(s: AsyncSession, debtor_id: int) -> list[Entry]:
    attempts = list(
        (await s.scalars(select(CallAttempt).where(CallAttempt.debtor_id == debtor_id))).all()
    )
    if not attempts:
        return []
    turns: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for e in await s.scalars(
        select(CallEvent)
        .where(CallEvent.attempt_id.in_([a.id for a in attempts]), CallEvent.kind.in_(TURN_KINDS))
        .order_by(CallEvent.attempt_id, CallEvent.id)
    ):
        turns[e.attempt_id].append(_turn(e))
    out = []
    for a in attempts:
        kept = a.recording_sid is not None and a.recording_deleted_at is None
        out.append(
            Entry(
                "call",
                a.placed_at or a.claimed_at,
                a.id,
                {
                    "direction": str(a.direction),
                    "status": str(a.status),
                    "outcome": a.outcome,
                    "duration_s": a.duration_s,
                    "number": a.to_number,
                    "answered_by": a.answered_by,
                    "campaign_id": a.campaign_id,
                    "ended_at": a.ended_at.isoformat() if a.ended_at else None,
                    "turns": turns.get(a.id, []),
                    "recording": None
                    if a.recording_sid is None
                    else {
                        "status": a.recording_status,
                        "duration_s": a.recording_duration_s,
                        "playable": kept and a.recording_status == "completed",
                        "deleted_at": a.recording_deleted_at.isoformat()
                        if a.recording_deleted_at
                        else None,
                    },
                },
            )
        )
    return out


async def _transfers(s: AsyncSession, debtor_id: int) -> list[Entry]:
    rows = await s.execute(
        select(Transfer, Agent.display_name)
        .join(CallAttempt, CallAttempt.id == Transfer.attempt_id)
        .outerjoin(Agent, Agent.id == Transfer.agent_id)
        .where(CallAttempt.debtor_id == debtor_id)
    )
    out = []
    for t, agent in rows.all():
        out.append(
            Entry(
                "transfer",
                t.requested_at,
                t.id,
                {
                    "attempt_id": t.attempt_id,
                    "agent": agent,
                    "reason": t.reason,
                    "status": str(t.status),
                    "outcome": t.outcome,
                    "queue_wait_s": t.queue_wait_s,
                },
            )
        )
        if t.outcome is not None or t.notes:
            out.append(
                Entry(
                    "note",
                    t.ended_at or t.answered_at or t.requested_at,
                    t.id,
                    {
                        "attempt_id": t.attempt_id,
                        "agent": agent,
                        "outcome": t.outcome,
                        "notes": t.notes,
                    },
                )
            )
    return out


async def _money(s: AsyncSession, debtor_id: int) -> list[Entry]:
    debt_ids = list((await s.scalars(select(Debt.id).where(Debt.debtor_id == debtor_id))).all())
    if not debt_ids:
        return []
    out = []
    plans = {
        p.id: p
        for p in await s.scalars(select(PaymentPlan).where(PaymentPlan.debt_id.in_(debt_ids)))
    }
    instalments: dict[int, list[Promise]] = defaultdict(list)
    for p in await s.scalars(
        select(Promise).where(Promise.debt_id.in_(debt_ids)).order_by(Promise.id)
    ):
        if p.plan_id is not None:
            instalments[p.plan_id].append(p)
            continue
        out.append(
            Entry(
                "promise",
                p.created_at,
                p.id,
                {
                    "debt_id": p.debt_id,
                    "date": p.promised_date.isoformat(),
                    "amount_cents": p.amount_cents,
                    "status": str(p.status),
                    "source": p.source,
                },
            )
        )
    for plan in plans.values():
        parts = sorted(instalments.get(plan.id, []), key=lambda p: p.sequence or 0)
        out.append(
            Entry(
                "plan",
                plan.created_at,
                plan.id,
                {
                    "debt_id": plan.debt_id,
                    "status": str(plan.status),
                    "source": str(plan.source),
                    "instalments": [
                        {
                            "sequence": p.sequence,
                            "date": p.promised_date.isoformat(),
                            "amount_cents": p.amount_cents,
                            "status": str(p.status),
                        }
                        for p in parts
                    ],
                },
            )
        )
    currency = dict(
        (await s.execute(select(Debt.id, Debt.currency).where(Debt.id.in_(debt_ids)))).all()
    )
    for pay in await s.scalars(select(Payment).where(Payment.debt_id.in_(debt_ids))):
        at = dt.datetime.combine(pay.paid_on, dt.time(12), tzinfo=dt.UTC)
        out.append(
            Entry(
                "payment",
                at,
                pay.id,
                {
                    "debt_id": pay.debt_id,
                    "amount_cents": pay.amount_cents,
                    "currency": currency.get(pay.debt_id, "BRL"),
                    "paid_on": pay.paid_on.isoformat(),
                    "external_ref": pay.external_ref,
                },
            )
        )
    return out


async def _others(s: AsyncSession, debtor_id: int) -> list[Entry]:
    out = [
        Entry(
            "callback",
            c.created_at,
            c.id,
            {"due_at": c.due_at.isoformat(), "status": str(c.status), "reason": c.reason},
        )
        for c in await s.scalars(select(Callback).where(Callback.debtor_id == debtor_id))
    ]
    out += [
        Entry("opt_out", o.created_at, o.id, {"channel": o.channel, "source": o.source})
        for o in await s.scalars(select(OptOut).where(OptOut.debtor_id == debtor_id))
    ]
    out += [
        Entry(
            "sms",
            m.created_at,
            m.id,
            {
                "direction": str(m.direction),
                "purpose": str(m.purpose),
                "status": str(m.status),
                "to": m.to_number,
                "from": m.from_number,
                "body": m.body,
                "error_code": m.error_code,
            },
        )
        for m in await s.scalars(select(SmsMessage).where(SmsMessage.debtor_id == debtor_id))
    ]
    out += [
        Entry(
            "review",
            r.reported_at,
            r.id,
            {
                "review_kind": str(r.kind),
                "number": r.e164,
                "attempt_id": r.attempt_id,
                "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None,
            },
        )
        for r in await s.scalars(select(DebtorReview).where(DebtorReview.debtor_id == debtor_id))
    ]
    out += [
        Entry("action", a.at, a.id, {"action": str(a.kind), "by": a.by_user, **a.detail})
        for a in await s.scalars(select(DebtorAction).where(DebtorAction.debtor_id == debtor_id))
    ]
    return out


async def timeline(s: AsyncSession, debtor_id: int) -> list[Entry]:
    """Every contact and event about the person, newest first (ties: kind, id)."""
    entries = [
        *await _calls(s, debtor_id),
        *await _transfers(s, debtor_id),
        *await _money(s, debtor_id),
        *await _others(s, debtor_id),
    ]
    entries.sort(key=lambda e: (e.at, e.kind, e.id), reverse=True)
    return entries


# --- search -------------------------------------------------------------------


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


@dataclass(frozen=True)
class Found:
    debtor: Debtor
    matched: str  # reference | phone | name


async def search(
    s: AsyncSession, text: str, e164: str | None, *, offset: int, limit: int
) -> tuple[int, list[Found]]:
    """People whose reference is ``text``, who have the number ``e164``, or whose
    name (or a word of it) starts with ``text`` regardless of case and accents."""
    key = fold_name(text)
    conditions = [Debtor.external_ref == text.strip()]
    if e164 is not None:
        conditions.append(Debtor.id.in_(select(Phone.debtor_id).where(Phone.e164 == e164)))
    if key:
        prefix = _like_prefix(key)
        conditions.append(Debtor.name_key.like(prefix, escape="\\"))
        conditions.append(Debtor.name_key.like("% " + prefix, escape="\\"))
    where = or_(*conditions)
    total = int(await s.scalar(select(func.count()).select_from(Debtor).where(where)) or 0)
    rows = list(
        (
            await s.scalars(
                select(Debtor)
                .where(where)
                .order_by(Debtor.name_key, Debtor.id)
                .offset(offset)
                .limit(limit)
            )
        ).all()
    )
    out = []
    for d in rows:
        if d.external_ref == text.strip():
            matched = "reference"
        elif e164 is not None and any(p.e164 == e164 for p in d.phones):
            matched = "phone"
        else:
            matched = "name"
        out.append(Found(d, matched))
    return total, out
