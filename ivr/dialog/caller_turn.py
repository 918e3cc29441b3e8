"""One caller turn, reduced to what routing needs.

Speech (through the language understanding), a keypad key and a keypad entry
all become one :class:`Answer`, so the conversation routes them alike. The
functions here are pure: they read a turn and the call's context and return
values, which keeps the conversation's own state changes in one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from ivr.dialog.events import CallContext
from ivr.dialog.flow_guards import CallerAnswers
from ivr.dialog.flow_model import CollectMode


class NluResultLike(Protocol):
    """What the dialog reads from a language-understanding result."""

    @property
    def intent(self) -> str: ...
    @property
    def date(self) -> dt.date | None: ...
    @property
    def amount_cents(self) -> int | None: ...
    @property
    def fraction(self) -> float | None: ...
    @property
    def time(self) -> dt.time | None: ...
    @property
    def confidence(self) -> float: ...


Understand = Callable[..., NluResultLike]


@dataclass(frozen=True)
class Answer:
    """One caller answer, reduced to what routing needs."""

    intent: str
    date: dt.date | None = None
    amount_cents: int | None = None
    fraction: float | None = None
    time: dt.time | None = None
    days: int | None = None


def keypad_answer(collect: CollectMode | None, entry: str, ctx: CallContext) -> Answer:
    """A complete keypad entry as an answer, by the listening state's collect mode."""
    from ivr.dialog.nlu import parse_keypad_amount, parse_keypad_date

    if collect is CollectMode.DATE:
        day = parse_keypad_date(entry, ctx.today) if entry else None
        return Answer("promise", date=day) if day else Answer("unknown")
    if collect is CollectMode.AMOUNT:
        cents = parse_keypad_amount(entry) if entry else None
        return Answer("promise", amount_cents=cents) if cents else Answer("unknown")
    if collect is CollectMode.BIRTH_YEAR:
        ok = ctx.birth_year is not None and entry == str(ctx.birth_year)
        return Answer("verified" if ok else "not_verified")
    if collect is CollectMode.DOCUMENT_DIGITS:
        from ivr.document_digits import tail_matches

        ok = tail_matches(entry, ctx.document_digits)
        return Answer("verified" if ok else "not_verified")
    return Answer("unknown")


def with_slot_intent(slot_intent: str | None, answer: Answer) -> Answer:
    """A date, amount or time said with no clear intent ("sexta") counts as the
    state's ``slot_intent``."""
    has_slot = answer.date or answer.time or answer.amount_cents or answer.fraction
    if slot_intent and has_slot and answer.intent in ("unknown", "yes", "promise"):
        return Answer(
            slot_intent,
            answer.date,
            answer.amount_cents,
            answer.fraction,
            answer.time,
            answer.days,
        )
    return answer


def remember(answer: Answer, agreed: CallerAnswers, ctx: CallContext) -> CallerAnswers:
    """A copy of ``agreed`` with the dates, amounts and times of ``answer`` added."""
    agreed = replace(agreed)
    if answer.intent == "promise":
        if answer.date is not None:
            agreed.promise_date = answer.date
        if answer.amount_cents:
            agreed.promise_amount_cents = answer.amount_cents
        elif answer.fraction:
            agreed.promise_amount_cents = round(ctx.amount_cents * answer.fraction)
    elif answer.intent in ("callback", "not_available"):  # "ele volta amanhã"
        day = answer.date
        if answer.days is not None:
            day = ctx.today + dt.timedelta(days=answer.days)
        agreed.callback_date = day
        agreed.callback_time = answer.time
    return agreed
