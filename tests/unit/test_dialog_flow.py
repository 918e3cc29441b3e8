"""Loading and validating the declarative call flow."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from ivr.dialog import nlu_intents
from ivr.dialog.flow_model import GRAMMARS, INTENTS, Finish, Flow, FlowError, Goto, PlayPrompt
from ivr.dialog.flow_yaml import parse_yaml
from ivr.dialog.grammars import CONTEXT_INTENTS, all_contexts
from ivr.dialog.prompts import LOCALES

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ROOT / "prompts"
FLOW_FILE = ROOT / "ivr" / "dialog" / "flow.yaml"

MINIMAL = """
start: ask
on_machine: bye
reask_policies:
  default:
    unknown: [reask, keypad, {goto: bye}]
branch_sets:
  anytime:
    agent: bye
states:
  ask:
    ask: greet
    listen: {grammar: yes_no}
    keypad: {"1": yes, "2": no}
    keypad_prompt: keypad_yes_no
    branches: anytime
    on:
      yes: bye
      no: [{when: first_contact, goto: bye}]
  bye:
    do:
      - {play: wrong_person, barge_in: false}
      - outcome: wrong_party
      - end_call: done
"""


def minimal() -> dict[str, Any]:
    return copy.deepcopy(parse_yaml(MINIMAL))


def test_yes_no_and_on_stay_words_not_booleans():
    doc = parse_yaml("on: {yes: a, no: b}\nflag: false\n")
    assert doc == {"on": {"yes": "a", "no": "b"}, "flag": False}


def test_the_shipped_flow_loads_and_checks_prompts_in_both_locales():
    flow = Flow.load(FLOW_FILE, prompts_root=PROMPTS)
    assert flow.start == "greet"
    assert flow.on_machine == "voicemail"
    assert "ask_payment_date" in flow.states


def test_minimal_flow_loads():
    flow = Flow.from_mapping(minimal())
    assert flow.states["ask"].on["yes"][0].target == "bye"
    assert flow.states["ask"].keypad["1"].intent == "yes"
    assert flow.prompt_ids() == {"greet", "keypad_yes_no", "wrong_person"}


@pytest.mark.parametrize(
    ("mutate", "names"),
    [
        (lambda d: d["states"]["ask"]["on"].__setitem__("yes", "nowhere"), "nowhere"),
        (lambda d: d["states"]["bye"]["do"].insert(0, "launch_rockets"), "launch_rockets"),
        (lambda d: d["states"]["ask"]["on"].__setitem__("sing", "bye"), "sing"),
        (lambda d: d["states"]["ask"]["listen"].__setitem__("grammar", "poetry"), "poetry"),
        (
            lambda d: d["states"]["ask"]["on"].__setitem__("no", [{"when": "moon", "goto": "bye"}]),
            "moon",
        ),
        (lambda d: d.__setitem__("start", "limbo"), "limbo"),
        (lambda d: d["states"]["ask"].__setitem__("colour", "red"), "colour"),
        (lambda d: d["states"]["ask"].__setitem__("branches", "elsewhere"), "elsewhere"),
        (lambda d: d["states"]["ask"].__setitem__("reask", "stubborn"), "stubborn"),
        (lambda d: d["states"]["ask"]["keypad"].__setitem__("1", "dance"), "dance"),
        (lambda d: d["states"]["bye"]["do"].__setitem__(1, {"outcome": "happy"}), "happy"),
        (lambda d: d["reask_policies"]["default"].__setitem__("unknown", ["shout"]), "shout"),
    ],
)
def test_invalid_flows_are_rejected_naming_the_culprit(mutate, names):
    doc = minimal()
    mutate(doc)
    with pytest.raises(FlowError, match=names):
        Flow.from_mapping(doc)


def test_a_state_that_neither_listens_nor_ends_is_rejected():
    doc = minimal()
    doc["states"]["bye"]["do"].pop()  # no end_call any more
    with pytest.raises(FlowError, match="'bye'"):
        Flow.from_mapping(doc)


def test_end_call_must_be_the_last_step():
    doc = minimal()
    doc["states"]["bye"]["do"].append({"play": "greet"})
    with pytest.raises(FlowError, match="end_call"):
        Flow.from_mapping(doc)


def test_action_states_looping_forever_are_rejected():
    doc = minimal()
    doc["states"]["a"] = {"do": ["opt_out"], "goto": "b"}
    doc["states"]["b"] = {"do": ["opt_out"], "goto": "a"}
    with pytest.raises(FlowError, match="loop"):
        Flow.from_mapping(doc)


def test_missing_prompt_is_rejected_naming_it(tmp_path):
    doc_text = MINIMAL.replace("ask: greet", "ask: greet_in_verse")
    path = tmp_path / "flow.yaml"
    path.write_text(doc_text, encoding="utf-8")
    with pytest.raises(FlowError, match="greet_in_verse"):
        Flow.load(path, prompts_root=PROMPTS)


def test_the_flow_and_the_understanding_agree_on_intents():
    """The flow routes only on intents the understanding returns or the engine
    derives; every intent the understanding returns leads somewhere in the
    shipped flow ("repeat" the engine answers itself); every one of them, bar
    "unknown", is listened for in some grammar context, and the grammars
    express nothing else."""
    nlu = set(nlu_intents.INTENTS)
    # keypad checks (collect: birth_year) and inbound identification
    engine = {"verified", "not_verified", "person_chosen", "found", "not_found"}
    assert nlu | engine == INTENTS
    flow = Flow.load(FLOW_FILE, prompts_root=PROMPTS)
    route_maps = [s.on for s in flow.states.values()] + list(flow.branch_sets.values())
    routed = {intent for routes in route_maps for intent in routes}
    keyed = {b.intent for s in flow.states.values() for b in s.keypad.values()}
    slot_intents = {s.slot_intent for s in flow.states.values() if s.slot_intent}
    assert routed | keyed | slot_intents <= nlu | engine
    assert nlu - {"repeat"} <= routed
    assert "verified" in routed
    assert set().union(*CONTEXT_INTENTS.values()) == nlu - {"unknown"}


def test_every_grammar_context_exists_in_every_locale():
    """The flow listens only in contexts that have a grammar in every service locale."""
    for locale in LOCALES:
        assert set(all_contexts(locale)) == GRAMMARS, locale


def test_every_ending_plays_a_goodbye_first():
    """Never hang up abruptly: each ending state plays something before it ends."""
    flow = Flow.load(FLOW_FILE, prompts_root=PROMPTS)
    for state in flow.states.values():
        if state.do and isinstance(state.do[-1].action, Finish):
            plays = [s for s in state.do[:-1] if isinstance(s.action, PlayPrompt)]
            assert plays, state.name
            # at least one unconditional, or a guarded pair that covers both cases
            assert any(not s.when and not s.unless for s in plays) or len(plays) >= 2, state.name


def test_every_listening_state_has_a_keypad_alternative():
    flow = Flow.load(FLOW_FILE, prompts_root=PROMPTS)
    for state in flow.states.values():
        if state.listens:
            assert state.keypad or state.collect, state.name
            assert state.keypad_prompt, state.name


def test_every_state_is_reachable():
    flow = Flow.load(FLOW_FILE, prompts_root=PROMPTS)
    seen = {flow.start, flow.on_machine, flow.on_max_turns, flow.on_inbound} | flow.entry_points
    frontier = list(seen)
    while frontier:
        state = flow.states[frontier.pop()]
        nexts = {r.target for routes in state.on.values() for r in routes}
        if state.branches:
            nexts |= {r.target for rs in flow.branch_sets[state.branches].values() for r in rs}
        if state.goto:
            nexts.add(state.goto)
        nexts |= {r.target for r in state.goto_when}
        for entries in flow.reask_policies[state.reask].values():
            nexts |= {e.state for e in entries if isinstance(e, Goto)}
        for name in nexts - seen:
            seen.add(name)
            frontier.append(name)
    assert seen == set(flow.states)


def test_duplicate_keys_are_rejected():
    with pytest.raises(FlowError, match="duplicate key 'silence'"):
        parse_yaml("policy:\n  silence: [a]\n  silence: [b]\n")


def test_merge_keys_still_work():
    doc = parse_yaml("base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n")
    assert doc["child"] == {"x": 1, "y": 3}


def test_unknown_entry_point_is_rejected():
    doc = minimal()
    doc["entry_points"] = ["hold_music"]
    with pytest.raises(FlowError, match="hold_music"):
        Flow.from_mapping(doc)
