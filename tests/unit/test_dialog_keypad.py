"""The keypad says everything speech can: every intent a question listens for
has a key there, the same key in every question, announced in the same words
(the keys-only walk of the flow is in test_dialog_keypad_walk)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from ivr.dialog.events import (
    CallAnswered,
    CallContext,
    Digits,
    Listen,
    RecordAlreadyPaid,
    RecordOutcome,
    ScheduleCallback,
    Silence,
    TransferToAgent,
)
from ivr.dialog.flow_guards import CallerAnswers, all_hold
from ivr.dialog.flow_model import CollectMode, Flow, Route, State
from ivr.dialog.grammars import CONTEXT_INTENTS
from tests.unit import test_dialog as base
from tests.unit.test_dialog import TODAY, of

flow = base.flow
catalogs = base.catalogs
make = base.make


def keyed_in(dialog) -> None:
    """Start the call and confirm the right party with the keypad."""
    dialog.start(CallAnswered())
    dialog.handle(Digits("1"))
    assert dialog.state == "ask_payment_date"


@pytest.mark.parametrize("locale", ["pt-BR", "en-US"])
def test_already_paid_by_keypad(make, locale):
    d = make(locale)
    keyed_in(d)
    # 3 may begin a date (30, 31): alone, it answers after a short pause.
    actions = d.handle(Digits("3"))
    assert not of(actions, RecordOutcome)
    assert of(actions, Listen)[-1].timeout_s == d.flow.keypad_pause_s
    actions = d.handle(Silence())
    assert RecordAlreadyPaid() in actions
    assert RecordOutcome("already_paid") in actions
    assert d.finished and d.outcome == "already_paid"


@pytest.mark.parametrize("locale", ["pt-BR", "en-US"])
def test_call_me_later_by_keypad(make, locale):
    d = make(locale)
    keyed_in(d)
    d.handle(Digits("4"))
    assert d.state == "ask_callback_time"
    actions = d.handle(Digits("1"))
    tomorrow = TODAY + dt.timedelta(days=1)
    assert of(actions, ScheduleCallback) == [
        ScheduleCallback(dt.datetime.combine(tomorrow, dt.time(10, 0)))
    ]
    assert d.outcome == "callback"


def test_a_key_no_date_begins_with_answers_at_once(make):
    d = make()
    keyed_in(d)
    actions = d.handle(Digits("5"))
    assert d.state == "offer_installments"
    assert base.prompt_ids(actions) == ["offer_installments"]


def test_a_key_that_may_begin_a_date_waits_for_the_rest(make):
    d = make()
    keyed_in(d)
    d.handle(Digits("0"))
    d.handle(Digits("5"))
    d.handle(Digits("1"))
    d.handle(Digits("2"))
    actions = d.handle(Digits("#"))
    assert d.state == "confirm_promise", actions
    assert d.answers.promise_date == dt.date(2025, 12, 5)


def test_zero_alone_is_a_person_at_the_payment_question(make):
    d = make()
    keyed_in(d)
    d.handle(Digits("0"))
    actions = d.handle(Silence())
    assert of(actions, TransferToAgent) == [TransferToAgent("asked_for_agent")]


@pytest.mark.parametrize("locale", ["pt-BR", "en-US"])
def test_star_repeats_the_question_and_then_its_keys(make, locale):
    d = make(locale)
    keyed_in(d)
    actions = d.handle(Digits("*"))
    said = base.prompt_ids(actions)
    assert said[-2:] == ["ask_payment_date", "keypad_date"]
    assert isinstance(actions[-1], Listen)
    assert d.state == "ask_payment_date"


# ---------------------------------------------------------------- parity with speech

#: Intents speech offers with no key, and why.
KEYLESS: dict[str, str] = {
    # Said by whoever answered for the debtor, before anyone is identified: a
    # key for them would read a menu about death and absence to every debtor.
    "deceased": "said by a relative; announcing it to every debtor would be unkind",
    "not_available": "said by someone else for the debtor; a key would be for strangers",
}
#: Per collect mode, intents with no key there, and why.
KEYLESS_WHILE_COLLECTING: dict[CollectMode, dict[str, str]] = {
    # Years begin with 1 or 2: a 2 for "no" would be read as "not me" (and the
    # number marked wrong) whenever a debtor born in the 2000s paused after
    # its first digit. Whoever is not the debtor leaves by a wrong year or
    # silence, which ends the call kindly and discloses nothing.
    CollectMode.BIRTH_YEAR: {"no": "2 begins a year", "wrong_person": "2 begins a year"},
    # Any digit may begin a document's last four digits.
    CollectMode.DOCUMENT_DIGITS: {"no": "2 may begin the digits", "wrong_person": "2 may begin"},
    # Inbound: keys 1-5 pick a person; "not me" is leaving the list for the reference.
    CollectMode.PERSON: {"no": "2 picks a person", "wrong_person": "2 picks a person"},
    # Any digit may begin a reference.
    CollectMode.REFERENCE: {},
}
#: Per question, intents reached by keys in two steps rather than one, and why.
KEYLESS_IN: dict[str, dict[str, str]] = {
    # A "no" to "é você?" first asks whose number it is (a relative may have
    # answered); a second 2 there marks the number wrong. Saying "número
    # errado" skips the question, which a key must not do on a slip.
    "greet": {"wrong_person": "2, then 2 at ask_number_owner"},
    # "Is this Maria's number?": 1 (yes, she is not here) books the callback.
    "ask_number_owner": {"callback": "1 books the callback"},
}
#: What a keypad entry answers, per collect mode.
COLLECTED: dict[CollectMode, frozenset[str]] = {
    CollectMode.DATE: frozenset({"promise"}),
    CollectMode.AMOUNT: frozenset({"promise"}),
    CollectMode.BIRTH_YEAR: frozenset({"verified", "not_verified"}),
    CollectMode.DOCUMENT_DIGITS: frozenset({"verified", "not_verified"}),
    CollectMode.PERSON: frozenset({"person_chosen"}),
    CollectMode.REFERENCE: frozenset({"found", "not_found"}),
}


def routes_of(flow: Flow, state: State, intent: str) -> tuple[Route, ...] | None:
    """Where ``intent`` leads from ``state``, as the conversation looks it up."""
    found = state.on.get(intent)
    if found is None and state.branches:
        found = flow.branch_sets[state.branches].get(intent)
    return found


def offered_by_speech(flow: Flow, state: State) -> set[str]:
    """The intents the question's grammar listens for that lead somewhere
    (``repeat`` always does: the conversation answers it itself)."""
    assert state.listen is not None
    return {
        intent
        for intent in CONTEXT_INTENTS[state.listen.grammar]
        if intent == "repeat" or routes_of(flow, state, intent) is not None
    }


def keyed_intents(state: State) -> set[str]:
    keyed = {binding.intent for binding in state.keypad.values()}
    return keyed | (COLLECTED[state.collect] if state.collect else set())


def target_of(flow: Flow, state: State, intent: str, ctx: CallContext) -> str | None:
    """Where ``intent`` said plainly (no day, amount or plan: what a key carries)
    leads from ``state``."""
    routes = routes_of(flow, state, intent) or ()
    return next((r.target for r in routes if all_hold(r.when, ctx, CallerAnswers())), None)


@pytest.mark.parametrize("installments", [3, 1], ids=["installments", "no_installments"])
def test_every_intent_speech_offers_has_a_key(flow, installments):
    """Derived from the grammars' CONTEXT_INTENTS, so parity cannot drift: an
    intent is covered by its own key, or by a key whose intent leads to the
    same place ("no" and "cannot pay" at the payment question)."""
    ctx = base.make_ctx(installments=installments)
    missing = {}
    for state in flow.states.values():
        if not state.listens:
            continue
        keyed = keyed_intents(state)
        excused = (
            set(KEYLESS)
            | set(KEYLESS_WHILE_COLLECTING.get(state.collect, {}))
            | set(KEYLESS_IN.get(state.name, {}))
        )
        lacking = {
            intent
            for intent in offered_by_speech(flow, state) - keyed - excused
            if not any(
                target_of(flow, state, key, ctx) is not None
                and target_of(flow, state, key, ctx) == target_of(flow, state, intent, ctx)
                for key in keyed
            )
        }
        if lacking:
            missing[state.name] = sorted(lacking)
    assert not missing


def test_an_intent_has_the_same_key_in_every_question(flow):
    keys: dict[str, set[str]] = {}
    for state in flow.states.values():
        for key, binding in state.keypad.items():
            if binding.days is None and binding.time is None:  # presets answer their question
                keys.setdefault(binding.intent, set()).add(key)
    assert {intent: held for intent, held in keys.items() if len(held) > 1} == {}


# What each key is announced as, the key in front ("3 se já pagou"): short,
# because a question's keypad help has to fit in one breath of the prompt
# length limit (ivr/prompt_render.py).
ANNOUNCED: dict[str, dict[str, str]] = {
    "pt-BR": {
        "yes": "para sim",
        "no": "para não",
        "cannot_pay": "se agora não der",
        "already_paid": "se já pagou",
        "callback": "para ligarmos depois",
        "installments": "para parcelar",
        "payment_details": "para os dados de pagamento",
        "dispute": "se não reconhece a conta",
        "stop_calling": "para não receber ligações",
        "agent": "para falar com uma pessoa",
        "repeat": "para repetir",
    },
    "en-US": {
        "yes": "for yes",
        "no": "for no",
        "cannot_pay": "if you can't pay now",
        "already_paid": "if you've paid",
        "callback": "to call you later",
        "installments": "for installments",
        "payment_details": "for payment details",
        "dispute": "if you don't recognize it",
        "stop_calling": "to stop our calls",
        "agent": "for a person",
        "repeat": "to repeat",
    },
}
#: Bound in every question, announced once: the greeting offers 9 to stop the
#: calls, and repeating it in every question's help would crowd out the rest.
ANNOUNCED_ONCE = frozenset({"stop_calling"})
STAR = {"pt-BR": "asterisco", "en-US": "star"}


def test_the_greeting_offers_the_key_that_stops_the_calls(catalogs):
    for locale, catalog in catalogs.items():
        for prompt_id in ("greet", "keypad_identity"):
            text = " ".join(catalog.prompts[prompt_id][0].split())
            assert re.search(r"\b9\b", text), (locale, prompt_id)


@pytest.mark.parametrize("locale", ["pt-BR", "en-US"])
def test_each_question_announces_exactly_its_keys_in_the_same_words(flow, catalogs, locale):
    catalog = catalogs[locale]
    words = ANNOUNCED[locale]
    for state in flow.states.values():
        if not state.listens:
            continue
        assert state.keypad_prompt, state.name
        bound = {
            (STAR[locale] if key == "*" else key, binding.intent)
            for key, binding in state.keypad.items()
            if binding.days is None and binding.time is None
        }
        for variant in catalog.prompts[state.keypad_prompt]:
            text = " ".join(variant.split())
            for key, intent in bound:
                if intent not in ANNOUNCED_ONCE:
                    assert f"{key} {words[intent]}" in text, (state.name, key, intent, text)
            for intent, phrase in words.items():
                said = rf"(\d|{STAR[locale]}) {re.escape(phrase)}(?=[,.;]| and | e | ou | or )"
                for key in re.findall(said, text):
                    assert (key, intent) in bound, (state.name, key, intent, text)
