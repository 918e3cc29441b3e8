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
from ivr.dialog.flow_guards import CallerAnswers, payable_day, split_amounts
from ivr.dialog.flow_model import INTENTS, CollectMode, Flow, KeyBinding, State
from ivr.dialog.nlu_multipart import PlannedPayment


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
    @property
    def installment_plan(self) -> tuple[PlannedPayment, ...]: ...
    @property
    def installments(self) -> int | None: ...


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
    keyed: bool = False  # pressed on the keypad, not said
    plan: tuple[PlannedPayment, ...] = ()  # a split proposal, part by part
    count: int | None = None  # how many instalments were asked for ("em doze vezes")
    choice: int | None = None  # person_chosen: the index among the candidates


def spoken_answer(intent: str, result: NluResultLike) -> Answer:
    """What was said, as ``intent`` (the understanding's, unless it was unsure)."""
    return Answer(
        intent,
        result.date,
        result.amount_cents,
        result.fraction,
        result.time,
        plan=result.installment_plan,
        count=result.installments,
    )


def key_answer(binding: KeyBinding | None) -> Answer:
    """One key pressed: the intent bound to it (with preset slots), or unknown."""
    if binding is None:
        return Answer("unknown", keyed=True)
    return Answer(binding.intent, time=binding.time, days=binding.days, keyed=True)


def keypad_answer(collect: CollectMode | None, entry: str, ctx: CallContext) -> Answer:
    """A complete keypad entry as an answer, by the listening state's collect mode."""
    from ivr.dialog.nlu import parse_keypad_amount, parse_keypad_date

    if collect is CollectMode.DATE:
        day = parse_keypad_date(entry, ctx.today) if entry else None
        return Answer("promise", date=day, keyed=True) if day else Answer("unknown", keyed=True)
    if collect is CollectMode.AMOUNT:
        cents = parse_keypad_amount(entry) if entry else None
        if cents:
            return Answer("promise", amount_cents=cents, keyed=True)
        return Answer("unknown", keyed=True)
    if collect is CollectMode.BIRTH_YEAR:
        ok = ctx.birth_year is not None and entry == str(ctx.birth_year)
        return Answer("verified" if ok else "not_verified", keyed=True)
    if collect is CollectMode.DOCUMENT_DIGITS:
        from ivr.document_digits import tail_matches

        ok = tail_matches(entry, ctx.document_digits)
        return Answer("verified" if ok else "not_verified", keyed=True)
    if collect is CollectMode.PERSON:
        if entry.isdigit() and 1 <= int(entry) <= len(ctx.candidates):
            return Answer("person_chosen", keyed=True, choice=int(entry) - 1)
        return Answer("unknown", keyed=True)
    return Answer("unknown", keyed=True)


@dataclass(frozen=True)
class KeysRead:
    """What keys pressed in one question amount to: one bound ``key``, a
    complete ``entry``, or ``partial`` (still typing; ``buffered`` holds it)."""

    kind: str
    value: str
    buffered: str


def read_keys(state: State, buffered: str, digits: str) -> KeysRead:
    """Read ``digits`` in a collecting question after the ``buffered`` ones: '*'
    and a bound key that cannot start an entry answer at once; '#' or the last
    digit the question takes completes the entry."""
    limit = state.listen.max_digits if state.listen else 1
    collect = state.collect
    for ch in digits:
        if ch == "*" and "*" in state.keypad:
            return KeysRead("key", ch, "")
        if not buffered and ch in state.keypad and not (collect and collect.may_start_entry(ch)):
            return KeysRead("key", ch, "")
        if ch == "#" or (ch.isdigit() and len(buffered) + 1 >= limit):
            return KeysRead("entry", buffered + (ch if ch.isdigit() else ""), "")
        if ch.isdigit():
            buffered += ch
    return KeysRead("partial", digits, buffered)


def understood(
    text: str,
    asr_confidence: float,
    ctx: CallContext,
    understand: Understand,
    flow: Flow,
    state: str,
) -> tuple[Answer, dict[str, object]]:
    """Spoken words as an answer in ``state`` (and what the log keeps): an intent
    the flow does not know, or one heard or understood with too little
    confidence, is ``unknown`` so the question is asked again."""
    grammar = flow.states[state].listen
    result = understand(text, ctx.locale, ctx.today, context=grammar.grammar if grammar else None)
    intent = result.intent if result.intent in INTENTS else "unknown"
    if result.confidence < flow.min_confidence or asr_confidence < flow.min_asr_confidence:
        intent = "unknown"
    return spoken_answer(intent, result), speech_log(state, text, asr_confidence, intent, result)


def speech_log(
    state: str, text: str, asr_confidence: float, intent: str, result: NluResultLike
) -> dict[str, object]:
    """What the call log keeps of one spoken turn: the words, both confidences,
    the intent routed and the one understood, and any slots."""
    return {
        "state": state,
        "text": text,
        "confidence": asr_confidence,
        "intent": intent,
        "nlu_intent": result.intent,
        "nlu_confidence": result.confidence,
        "date": result.date.isoformat() if result.date else None,
        "amount_cents": result.amount_cents,
        "time": result.time.isoformat() if result.time else None,
        "plan": [p.to_json() for p in result.installment_plan],
    }


def with_slot_intent(slot_intent: str | None, answer: Answer) -> Answer:
    """A date, amount or time said with no clear intent ("sexta") counts as the
    state's ``slot_intent``."""
    has_slot = answer.date or answer.time or answer.amount_cents or answer.fraction
    if slot_intent and has_slot and answer.intent in ("unknown", "yes", "promise"):
        return replace(answer, intent=slot_intent)
    return answer


def remember(answer: Answer, agreed: CallerAnswers, ctx: CallContext) -> CallerAnswers:
    """A copy of ``agreed`` with the dates, amounts and times of ``answer`` added."""
    agreed = replace(agreed)
    if answer.intent == "promise":
        agreed.split = ()
        if answer.date is not None:
            payable = payable_day(ctx, answer.date)
            agreed.promise_date = payable
            agreed.moved = (answer.date, payable) if payable != answer.date else None
        if answer.amount_cents:
            agreed.promise_amount_cents = answer.amount_cents
        elif answer.fraction:
            agreed.promise_amount_cents = round(ctx.amount_cents * answer.fraction)
    elif answer.intent == "installments":  # a split said part by part, or none
        agreed.split = split_amounts(ctx, answer.plan) if len(answer.plan) >= 2 else ()
        agreed.asked_count = answer.count
        moves = ((p.date, payable_day(ctx, p.date)) for p in answer.plan)
        agreed.moved = next(((said, day) for said, day in moves if said != day), None)
    elif answer.intent == "person_chosen":
        agreed.chosen = answer.choice
    elif answer.intent in ("callback", "not_available"):  # "ele volta amanhã"
        day = answer.date
        if answer.days is not None:
            day = ctx.today + dt.timedelta(days=answer.days)
        agreed.callback_date = day
        agreed.callback_time = answer.time
    return agreed
