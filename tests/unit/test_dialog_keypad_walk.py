"""A caller pressing keys only, from the greeting with a right-party debtor,
walked breadth first over the flow: every outcome a key can bring about is
reached, from every question the outcomes open to it, and every state but
those only speech, silence or a machine lead to. Walked twice: for a debtor
the service cannot text (a landline) and for one it can (payment details by
SMS are offered), each reaching its own states."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from ivr.dialog.conversation import Dialog
from ivr.dialog.events import Action, CallAnswered, Digits, Event, Silence
from ivr.dialog.flow_model import CollectMode, Flow, State
from ivr.dialog.prompts import PromptCatalog
from ivr.vocab.outcomes import DIALOG_OUTCOMES
from tests.unit import test_dialog as base

flow = base.flow
catalogs = base.catalogs

BIRTH_YEAR = 1985
#: Outcomes no key can bring about, and why.
NOT_BY_KEYS: dict[str, str] = {
    "voicemail": "only a machine's answer leads there, never a key",
}
#: States no key leads to, and why.
UNREACHABLE_BY_KEYS: dict[str, str] = {
    "voicemail": "a machine answered",
    "no_response_goodbye": "silence",
    "confirm_split": "a split is said part by part; keys type one date",
    "split_recorded": "a split is said part by part; keys type one date",
    "split_recorded_sms": "a split is said part by part; keys type one date",
    "plan_over_limits": "a plan or a count of instalments is said, not keyed",
    "deceased": "speech only (KEYLESS)",
    # Asked only under the name_and_factor policy with no birth year on file;
    # the walk's debtor has a birth year (check_birth_year is walked instead).
    "check_document": "the walk's debtor has a birth year on file",
}
#: The inbound flow (a call the person placed) is walked from its own start in
#: tests/unit/test_dialog_inbound.py; this walk starts at the greeting of ours.
UNREACHABLE_BY_KEYS |= {
    name: "inbound only"
    for name in Flow.load(prompts_root=base.PROMPTS).states
    if name.startswith("inbound_")
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
        super()._enter(name, actions)
        hop: str | None = name  # and the acting states its goto hops passed through
        while hop is not None:
            self.entered.add(hop)
            hop = None if hop == self.state else self.flow.states[hop].goto


RESUME: Input = ()  # a long wait for a person: the queue offers a callback
Node = tuple[str, str, int, bool, bool]


def replay(flow: Flow, catalog: PromptCatalog, path: tuple[Input, ...], sms: bool) -> TracedDialog:
    ctx = base.make_ctx(birth_year=BIRTH_YEAR, sms_possible=sms)
    dialog = TracedDialog(ctx, flow, catalog)
    dialog.start(CallAnswered())
    for step in path:
        if step == RESUME:
            dialog.resume("queue_offer_callback")
        for event in step:
            dialog.handle(event)
    return dialog


def node_of(dialog: TracedDialog) -> Node:
    return (
        dialog.state,
        repr(dialog.answers),
        dialog._failures,
        dialog.finished,
        dialog.ctx.sms_possible,
    )


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


def walk(flow: Flow, catalog: PromptCatalog, sms: bool) -> Walk:
    """Breadth first from the greeting, a right-party debtor pressing keys only;
    ``sms``: the service can text this debtor."""
    start = replay(flow, catalog, (), sms)
    paths: dict[Node, tuple[Input, ...]] = {node_of(start): ()}
    result = Walk({}, {}, set(start.entered))
    frontier = [node_of(start)]
    while frontier:
        here = frontier.pop(0)
        dialog = replay(flow, catalog, paths[here], sms)
        if dialog.finished:
            resumable = dialog.outcome == "agent" and RESUME not in paths[here]
            tries = [RESUME] if resumable else []
        else:
            tries = inputs(flow.states[dialog.state], dialog.ctx.today)
        for step in tries:
            after = replay(flow, catalog, (*paths[here], step), sms)
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
    """Both walks as one graph (each node says which debtor it is)."""
    landline, mobile = (walk(flow, catalogs["pt-BR"], sms) for sms in (False, True))
    edges = {
        n: landline.edges.get(n, set()) | mobile.edges.get(n, set())
        for n in (landline.edges.keys() | mobile.edges.keys())
    }
    return Walk(edges, landline.outcomes | mobile.outcomes, landline.entered | mobile.entered)


def test_keys_alone_reach_every_outcome(keys_only):
    reached = set(keys_only.outcomes.values())
    assert reached == set(DIALOG_OUTCOMES) - set(NOT_BY_KEYS)


def test_keys_alone_reach_every_state(flow, keys_only):
    assert keys_only.entered == set(flow.states) - set(UNREACHABLE_BY_KEYS)


# right_party: payment details asked for (6) and sent, or declined, before a promise.
DEBTOR = {"right_party", "promise", "refused", "callback", "opt_out", "agent", "already_paid"}
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
    # "Is this Maria's number?" after a "no": yes is a callback, no a wrong number.
    "ask_number_owner": {"no_contact", "wrong_party", "opt_out", "agent", "callback"},
    # Payment details by SMS (a debtor the service can text): after a promise
    # (yes, no or silence keep it), or asked for with 6 before one.
    "promise_recorded_sms": {"promise", "opt_out", "agent", "callback"},
    "installments_recorded_sms": {"promise", "opt_out", "agent", "callback"},
    "ask_sms_consent": {"right_party", "opt_out", "agent", "callback"},
    "offer_agent_payment_details": {"right_party", "opt_out", "agent", "callback"},
}


def test_from_each_question_keys_reach_its_outcomes(flow, keys_only):
    listening = {s.name for s in flow.states.values() if s.listens}
    assert set(REACHABLE_FROM) == listening - set(UNREACHABLE_BY_KEYS)
    for state, outcomes in REACHABLE_FROM.items():
        assert keys_only.outcomes_from(state) == outcomes, state
