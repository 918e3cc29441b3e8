"""When a partial result is already a whole answer (the short-silence turn end).

Decided on the real grammar files: a phrase that a longer phrase of the same
grammar extends ("dia vinte" / "dia vinte e um") or a lead-in the caller goes
on from ("posso pagar ...") must never end the turn early.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ivr.dialog.grammars import LEAD_INS, UNK, TurnEnds, load_grammar
from ivr.dialog.nlu import understand


def ends(locale: str, context: str) -> TurnEnds:
    return TurnEnds(load_grammar(locale, context))


@pytest.mark.parametrize(
    ("locale", "context", "heard"),
    [
        ("pt-BR", "ask_payment_date", "dia cinco"),
        ("pt-BR", "ask_payment_date", "dia vinte e um"),
        ("pt-BR", "ask_payment_date", "amanhã"),
        ("pt-BR", "ask_payment_date", "depois de amanhã"),
        ("pt-BR", "ask_payment_date", "não consigo pagar"),
        ("pt-BR", "ask_payment_date", "posso pagar dia cinco"),
        ("pt-BR", "confirm_identity", "sim sou eu"),
        ("pt-BR", "confirm_identity", "sou eu"),
        ("pt-BR", "confirm_promise", "sim"),
        ("pt-BR", "confirm_promise", "isso mesmo"),
        ("en-US", "ask_payment_date", "the twenty first"),
        ("en-US", "confirm_identity", "yes"),
        ("ko-KR", "confirm_identity", "네"),
        ("ko-KR", "ask_payment_date", "내일"),
    ],
)
def test_whole_answers_end_early(locale: str, context: str, heard: str) -> None:
    assert ends(locale, context).complete(heard)


@pytest.mark.parametrize(
    ("locale", "context", "heard", "why"),
    [
        ("pt-BR", "ask_payment_date", "dia", "not a phrase"),
        ("pt-BR", "ask_payment_date", "dia vinte", "'dia vinte e um' extends it"),
        ("pt-BR", "ask_payment_date", "dia trinta", "'dia trinta e um' extends it"),
        ("pt-BR", "ask_payment_date", "não", "'não posso pagar' extends it"),
        ("pt-BR", "ask_payment_date", "segunda", "'segunda feira' extends it"),
        ("pt-BR", "ask_payment_date", "posso pagar", "a lead-in"),
        ("pt-BR", "ask_payment_date", "não posso pagar", "also 'não' + 'posso pagar ...'"),
        ("pt-BR", "ask_payment_date", "posso pagar dia vinte", "'dia vinte e um'"),
        ("pt-BR", "ask_payment_date", "cento e", "half a phrase"),
        ("pt-BR", "confirm_identity", "sim", "'sim sou eu' extends it"),
        ("pt-BR", "confirm_promise", "isso", "'isso mesmo' extends it"),
        ("pt-BR", "ask_callback_time", "amanhã", "'amanhã de manhã' extends it"),
        ("en-US", "ask_payment_date", "the twenty", "half a phrase"),
        ("en-US", "ask_payment_date", "i can pay", "a lead-in"),
        ("en-US", "ask_payment_date", "next", "not a phrase"),
        ("en-US", "confirm_promise", "no", "'no thanks' extends it"),
        ("ko-KR", "confirm_identity", "내일", "not in this grammar"),
        ("pt-BR", "confirm_identity", "", "nothing heard"),
        ("pt-BR", "confirm_identity", UNK, "garbage"),
    ],
)
def test_open_answers_wait_for_the_usual_silence(
    locale: str, context: str, heard: str, why: str
) -> None:
    assert not ends(locale, context).complete(heard), why


def test_every_lead_in_is_understood_as_a_promise_without_a_date() -> None:
    for phrase in LEAD_INS:
        locale = "en-US" if phrase in {"i can pay", "i'll pay"} else "pt-BR"
        assert phrase in load_grammar(locale, "ask_payment_date"), phrase
        result = understand(phrase, locale, dt.date(2026, 11, 23), context="ask_payment_date")
        assert result.intent == "promise" and result.date is None, phrase
        assert result.amount_cents is None and result.fraction is None, phrase
