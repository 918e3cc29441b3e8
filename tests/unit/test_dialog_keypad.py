"""The keypad says everything speech can: every intent a question listens for
has a key there, the same key in every question, and pressing keys alone
reaches every ending of the flow a caller can bring about."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pytest

from ivr.dialog.conversation import Dialog
from ivr.dialog.events import (
    Action,
    CallAnswered,
    CallContext,
    Digits,
    Event,
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
from ivr.dialog.prompts import PromptCatalog
from ivr.vocab.outcomes import DIALOG_OUTCOMES
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
}
#: What a keypad entry answers, per collect mode.
COLLECTED: dict[CollectMode, frozenset[str]] = {
    CollectMode.DATE: frozenset({"promise"}),
    CollectMode.AMOUNT: frozenset({"promise"}),
    CollectMode.BIRTH_YEAR: frozenset({"verified", "not_verified"}),
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
        excused = set(KEYLESS) | set(KEYLESS_WHILE_COLLECTING.get(state.collect, {}))
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


# ---------------------------------------------------------------- the walk, keys only

BIRTH_YEAR = 1985
#: Outcomes no key can bring about, and why.
NOT_BY_KEYS: dict[str, str] = {
    "voicemail": "only a machine's answer leads there, never a key",
    # Recorded on every path through identification, but it stays the call's
    # outcome only when the call ends after silence or a hang-up, neither a key.
    "right_party": "final only after silence or a hang-up",
}
#: States no key leads to, and why.
UNREACHABLE_BY_KEYS: dict[str, str] = {
    "voicemail": "a machine answered",
    "no_response_goodbye": "silence",
    "confirm_split": "a split is said part by part; keys type one date",
    "split_recorded": "a split is said part by part; keys type one date",
    "deceased": "speech only (KEYLESS)",
    "not_available": "speech only (KEYLESS)",
}

Input = tuple[Event, ...]


def entry(day: dt.date) -> Input:
    return (Digits(f"{day:%d%m%Y}#"),)


def inputs(state: State, today: dt.date) -> list[Input]:
    """Every keyed answer worth trying in ``state``: each bound key (a pause
    after one that may begin an entry), typed entries, and one unbound key."""
    tries: list[Input] = []
    for key in state.keypad:
        if state.collect and state.collect.may_start_entry(key):
            tries.append((Digits(key), Silence()))
        else:
            tries.append((Digits(key),))
    if state.collect is CollectMode.DATE:
        tries.append((Digits(f"{today + dt.timedelta(days=4):%d%m}#"),))  # a Friday
        tries.append((Digits(f"{today + dt.timedelta(days=5):%d%m}#"),))  # a Saturday
        tries.append(entry(today - dt.timedelta(days=3)))  # last Friday
        tries.append(entry(today + dt.timedelta(days=90)))
    if state.collect is CollectMode.BIRTH_YEAR:
        tries.append((Digits(f"{BIRTH_YEAR}#"),))
        tries.append((Digits("1900#"),))
    unbound = [k for k in "0123456789*" if k not in state.keypad]
    if unbound and not state.collect:
        tries.append((Digits(unbound[0]),))
    return tries


class TracedDialog(Dialog):
    """A dialog that notes every state it enters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entered: set[str] = set()

    def _enter(self, name: str, actions: list[Action]) -> None:
        self.entered.add(name)
        super()._enter(name, actions)


RESUME: Input = ()  # a long wait for a person: the queue offers a callback
Node = tuple[str, str, int, bool]


def replay(flow: Flow, catalog: PromptCatalog, path: tuple[Input, ...]) -> TracedDialog:
    dialog = TracedDialog(base.make_ctx(birth_year=BIRTH_YEAR), flow, catalog)
    dialog.start(CallAnswered())
    for step in path:
        if step == RESUME:
            dialog.resume("queue_offer_callback")
        for event in step:
            dialog.handle(event)
    return dialog


def node_of(dialog: TracedDialog) -> Node:
    return (dialog.state, repr(dialog.answers), dialog._failures, dialog.finished)


@dataclass
class Walk:
    """What pressing keys alone reached: the graph of (state, answers,
    failures, ended) nodes, each ended node's outcome, every state entered."""

    edges: dict[Node, set[Node]]
    outcomes: dict[Node, str]
    entered: set[str]

    def outcomes_from(self, state: str) -> set[str]:
        """The outcomes keys can still bring about once in ``state``."""
        todo = [n for n in self.edges if n[0] == state]
        seen = set(todo)
        while todo:
            for nxt in self.edges.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return {self.outcomes[n] for n in seen if n in self.outcomes}


def walk(flow: Flow, catalog: PromptCatalog) -> Walk:
    """Breadth first from the greeting, a right-party debtor pressing keys only."""
    start = replay(flow, catalog, ())
    paths: dict[Node, tuple[Input, ...]] = {node_of(start): ()}
    result = Walk({}, {}, set(start.entered))
    frontier = [node_of(start)]
    while frontier:
        here = frontier.pop(0)
        dialog = replay(flow, catalog, paths[here])
        if dialog.finished:
            resumable = dialog.outcome == "agent" and RESUME not in paths[here]
            tries = [RESUME] if resumable else []
        else:
            tries = inputs(flow.states[dialog.state], dialog.ctx.today)
        for step in tries:
            after = replay(flow, catalog, (*paths[here], step))
            there = node_of(after)
            result.entered |= after.entered | {after.state}
            result.edges.setdefault(here, set()).add(there)
            if after.finished:
                result.outcomes[there] = after.outcome or ""
            if there not in paths:
                paths[there] = (*paths[here], step)
                frontier.append(there)
    return result


@pytest.fixture(scope="module")
def keys_only(flow, catalogs) -> Walk:
    return walk(flow, catalogs["pt-BR"])


def test_keys_alone_reach_every_outcome(keys_only):
    reached = set(keys_only.outcomes.values())
    assert reached == set(DIALOG_OUTCOMES) - set(NOT_BY_KEYS)


def test_keys_alone_reach_every_state(flow, keys_only):
    assert keys_only.entered == set(flow.states) - set(UNREACHABLE_BY_KEYS)


DEBTOR = {"promise", "refused", "callback", "opt_out", "agent", "already_paid"}
#: From each question, the outcomes keys alone can still bring about.
REACHABLE_FROM: dict[str, set[str]] = {
    "greet": DEBTOR | {"wrong_party", "no_contact"},
    "check_birth_year": DEBTOR | {"no_contact"},  # "not me" has no key here
    "ask_payment_date": DEBTOR,
    "date_in_past": DEBTOR,
    "date_too_far": DEBTOR,
    "promise_adjust": DEBTOR,
    "confirm_promise": DEBTOR,
    "offer_installments": DEBTOR,
    "ask_installment_date": DEBTOR,
    "confirm_installments": DEBTOR,
    "offer_agent": {"refused", "callback", "opt_out", "agent"},
    "ask_callback_time": {"callback", "opt_out", "agent"},
    "queue_offer_callback": {"callback", "opt_out", "agent"},
}


def test_from_each_question_keys_reach_its_outcomes(flow, keys_only):
    listening = {s.name for s in flow.states.values() if s.listens}
    assert set(REACHABLE_FROM) == listening - set(UNREACHABLE_BY_KEYS)
    for state, outcomes in REACHABLE_FROM.items():
        assert keys_only.outcomes_from(state) == outcomes, state
