"""Understanding what the debtor said: an intent and its slots.

Input is what Vosk recognized with a restricted grammar (lowercase words) or
what someone typed into ``ivr nlu``; output is an ``NluResult`` with one intent
from a fixed vocabulary that the call flow routes on:

``yes``, ``no``, ``wrong_person``, ``agent``, ``cannot_pay``, ``already_paid``,
``callback``, ``stop_calling``, ``promise``, ``installments``, ``repeat``,
``dispute``, ``payment_details`` ("me manda o boleto", "qual é a chave pix",
"text me the link"), ``deceased`` ("ele faleceu"), ``not_available`` (someone
else answered and the person is out for now: "ele não está", "she's at work"),
``unknown``.

There is deliberately no ``dont_know`` intent: "não sei" / "I don't know"
comes back as ``unknown`` (the flow re-asks), so the vocabulary stays the one
the flow knows.

How an utterance is decided, in order (first hit wins):

1. phrases that must never be missed (``nlu_intents``: stop calling, deceased,
   dispute, not available, wrong person, agent, already paid, payment details,
   installments);
2. a payment plan ("metade agora e o resto dia 20") or an amount per month
   ("cinquenta por mês") is an ``installments`` proposal, even after "não dá
   para pagar tudo";
3. "can't pay" — unless a contrast word brings a counter-offer
   ("não posso pagar tudo, só a metade" is a ``promise``);
4. callback phrases ("me liga amanhã de manhã"), then repeat requests;
5. slots (``nlu_slots``): in ``ask_callback_time``, or with a time of day and no
   amount, a date/time is a ``callback``; a date, amount or fraction is a
   ``promise``; a count alone is ``installments``; slots all taken back
   ("sexta não") are a ``no``;
6. "não sei"-like hedges -> ``unknown``; "posso pagar" without slots ->
   ``promise`` with no date (the flow asks when);
7. plain no, then plain yes; otherwise ``unknown``.

Slots are returned only with the intents that use them (``_SLOTS_OF``):

* ``promise`` and ``payment_details`` ("manda o boleto que eu pago sexta"):
  ``date``, ``amount_cents``, ``fraction`` (of the whole debt), ``date_end``;
* ``callback`` and ``not_available`` ("ele só chega de noite"): ``date``,
  ``time``, ``date_end``. A time without a day leaves ``date`` empty: the
  caller of ``understand`` knows the clock and picks today or tomorrow;
* ``installments``: ``installments`` (how many), ``amount_cents`` (one
  instalment: "três parcelas de cem reais", "cinquenta por mês"), ``date``
  (the first instalment's), or, for a plan said instalment by instalment,
  ``installment_plan`` alone with ``installments`` its length.

A range of days ("entre dia 10 e dia 15", "the 20th or the 21st") is ``date``
= its first day and ``date_end`` = its last; ``date_end`` is empty otherwise.
A plan is a tuple of ``PlannedPayment`` (date, and amount_cents or fraction,
or neither for "the rest"): "metade agora e o resto dia 20" said on
2026-11-23 is ``(2026-11-23, fraction 0.5), (2026-12-20, fraction 0.5)``;
"cem agora e o resto dia 5" is ``(2026-11-23, 10000 cents), (2026-12-05,
rest)``. See ``nlu_multipart``.

``confidence`` is the rule's own certainty (0.95 for an explicit phrase, 0.9
for slots, lower for guesses such as a bare number or "posso pagar" alone,
0.0 for ``unknown``), not a probability.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from ivr.dialog import nlu_dates as cal
from ivr.dialog.nlu_intents import INTENTS, LEXICONS, first_match
from ivr.dialog.nlu_multipart import PlannedPayment
from ivr.dialog.nlu_slots import Slots, extract
from ivr.dialog.nlu_text import language_of, normalize

__all__ = [
    "INTENTS",
    "NluResult",
    "PlannedPayment",
    "nlu_cli",
    "parse_keypad_amount",
    "parse_keypad_date",
    "understand",
]


@dataclass(frozen=True)
class NluResult:
    """One understood utterance. ``installments`` is the number of
    installments asked for ("em três vezes" -> 3), when said; ``date_end``
    the last day of a range, ``installment_plan`` a plan said instalment by
    instalment (see the module docstring)."""

    intent: str
    date: dt.date | None = None
    amount_cents: int | None = None
    fraction: float | None = None
    time: dt.time | None = None
    confidence: float = 0.0
    text: str = ""
    installments: int | None = None
    date_end: dt.date | None = None
    installment_plan: tuple[PlannedPayment, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: ISO date, ``HH:MM`` time, integer cents."""
        return {
            "intent": self.intent,
            "date": self.date.isoformat() if self.date else None,
            "amount_cents": self.amount_cents,
            "fraction": self.fraction,
            "time": self.time.strftime("%H:%M") if self.time else None,
            "installments": self.installments,
            "date_end": self.date_end.isoformat() if self.date_end else None,
            "installment_plan": [p.to_json() for p in self.installment_plan],
            "confidence": self.confidence,
            "text": self.text,
        }


#: The slots each intent carries (see the module docstring); others carry none.
_PROMISE_SLOTS = frozenset({"date", "amount_cents", "fraction", "date_end"})
_CALLBACK_SLOTS = frozenset({"date", "time", "date_end"})
_SLOTS_OF: dict[str, frozenset[str]] = {
    "promise": _PROMISE_SLOTS,
    "payment_details": _PROMISE_SLOTS,
    "callback": _CALLBACK_SLOTS,
    "not_available": _CALLBACK_SLOTS,
    "installments": frozenset({"date", "amount_cents", "installments", "installment_plan"}),
}


def _slot_values(slots: Slots, intent: str) -> dict[str, Any]:
    """Every slot as ``NluResult`` names it. For ``installments`` a plan stands
    for the other slots, and an amount per month is the instalment amount."""
    if intent == "installments" and slots.plan:
        return {"installment_plan": slots.plan, "installments": len(slots.plan)}
    monthly = slots.monthly_cents if intent == "installments" else None
    return {
        "date": slots.date,
        "amount_cents": monthly or slots.amount_cents,
        "fraction": slots.fraction,
        "time": slots.time,
        "installments": slots.count,
        "date_end": slots.date_end,
    }


def _result(intent: str, text: str, confidence: float, slots: Slots | None = None) -> NluResult:
    keep = _SLOTS_OF.get(intent, frozenset())
    if slots is None or not keep:
        return NluResult(intent=intent, confidence=confidence, text=text)
    values = _slot_values(slots, intent)
    kept = {name: value for name, value in values.items() if name in keep}
    return NluResult(intent=intent, confidence=confidence, text=text, **kept)


def understand(text: str, locale: str, today: dt.date, *, context: str | None = None) -> NluResult:
    """Decide the intent and slots of ``text`` (see the module docstring).

    ``context`` is the name of the grammar that was listening; it biases the
    ambiguous cases (a bare date while asking for a callback time is a
    callback; a small number while offering installments is a count).
    """
    lang = language_of(locale)
    lex = LEXICONS[lang]
    norm = normalize(text, lang)
    words = norm.words
    if not words.replace(",", "").strip():
        return NluResult(intent="unknown", confidence=0.0, text=text)
    slots = extract(norm.numeric, lang, today, context)

    rule = first_match(lex.first, words)
    if rule is not None:
        return _result(rule.intent, text, rule.confidence, slots)
    if slots.plan or slots.monthly_cents is not None:
        return _result("installments", text, 0.9, slots)

    pays_something = any(v is not None for v in (slots.date, slots.amount_cents, slots.fraction))
    rule = first_match(lex.cannot_pay, words)
    if rule is not None:
        if pays_something and lex.contrast.search(words):
            return _result("promise", text, 0.85, slots)
        return _result(rule.intent, text, rule.confidence, slots)

    for rules in (lex.callback, lex.repeat):
        rule = first_match(rules, words)
        if rule is not None:
            return _result(rule.intent, text, rule.confidence, slots)

    guess = 0.75 if slots.bare_number else 0.9
    if context == "ask_callback_time" and (slots.date or slots.time):
        return _result("callback", text, guess, slots)
    if slots.time is not None and slots.amount_cents is None and slots.fraction is None:
        return _result("callback", text, guess, slots)
    if pays_something:
        return _result("promise", text, guess, slots)
    if slots.count is not None:
        return _result("installments", text, guess, slots)
    if slots.all_negated:
        return _result("no", text, 0.8)

    if lex.dont_know.search(words):
        return _result("unknown", text, 0.0)
    without_idioms = lex.not_a_no.sub(" ", words)
    if lex.will_pay.search(words) and not lex.no.search(without_idioms):
        return _result("promise", text, 0.6, slots)
    if lex.no.search(without_idioms):
        return _result("no", text, 0.9)
    if lex.yes.search(words):
        return _result("yes", text, 0.9)
    return _result("unknown", text, 0.0)


# ---------------------------------------------------------------- keypad


def _digits_only(digits: str) -> str:
    return digits.strip().rstrip("#")


def parse_keypad_date(digits: str, today: dt.date) -> dt.date | None:
    """A date typed on the keypad.

    * 1-2 digits: a day of the month, its next occurrence on or after tomorrow;
    * ``DDMM``: that day this year, or next year once it has passed;
    * ``DDMMYY`` / ``DDMMYYYY``: exactly that date (the flow judges past dates).
    """
    keys = _digits_only(digits)
    if not keys.isdigit():
        return None
    if len(keys) <= 2:
        return cal.next_day_of_month(today, int(keys))
    if len(keys) == 4:
        return cal.day_and_month(today, int(keys[:2]), int(keys[2:]))
    if len(keys) in (6, 8):
        year = int(keys[4:])
        if len(keys) == 6:
            year += 2000
        try:
            return dt.date(year, int(keys[2:4]), int(keys[:2]))
        except ValueError:
            return None
    return None


def parse_keypad_amount(digits: str) -> int | None:
    """Reais/dollars typed as digits, cents optionally after ``*`` ("150*50").

    One digit after ``*`` means tens of cents ("150*5" is 150.50). Returns
    cents, or None for anything else or for zero.
    """
    keys = _digits_only(digits)
    whole, star, cents = keys.partition("*")
    if not whole:
        whole = "0"
    if not whole.isdigit() or (star and not (cents.isdigit() and 1 <= len(cents) <= 2)):
        return None
    total = int(whole) * 100 + (int(cents.ljust(2, "0")) if star else 0)
    return total or None


# ---------------------------------------------------------------- command line


def nlu_cli(locale: str, today: str, text: str, context: str | None = None) -> str:
    """What ``ivr nlu --locale L --today YYYY-MM-DD "text"`` prints: JSON of the
    intent and slots, with ``locale`` and ``today`` echoed for the record."""
    day = dt.date.fromisoformat(today)
    result = understand(text, locale, day, context=context)
    payload = result.to_json()
    payload["locale"] = locale
    payload["today"] = day.isoformat()
    if context:
        payload["context"] = context
    return json.dumps(payload, ensure_ascii=False)
