"""Who is on the line before anything about the debt is said: the campaign's
verification policy, a relative's "não", a death, and opt-outs before and after
the person is verified. Driven by events only (real NLU, no audio)."""

from __future__ import annotations

import pytest

from ivr.dialog.events import (
    CallAnswered,
    Digits,
    LogTurn,
    MarkWrongNumber,
    OptOut,
    OptOutNumber,
    RecordOutcome,
    ReportDeceased,
    ScheduleCallback,
    Silence,
    Speech,
)
from ivr.dialog.flow_model import Flow, Goto, MarkVerified, PlayPrompt
from ivr.document_digits import hash_document
from tests.unit import test_dialog as base
from tests.unit.test_dialog import (
    assert_goodbye_then_end,
    assert_no_disclosure,
    of,
    plays,
    prompt_ids,
)
from tests.unit.test_prompts import BEFORE_IDENTITY

flow = base.flow
catalogs = base.catalogs
make = base.make

BEFORE_THE_REASON = {"notice_first", "notice_later", "reason"}
DEBT_PLACEHOLDERS = {"amount", "creditor", "due_date", "installment_amount", "promise_amount"}
CPF = "123.456.789-09"  # imported as is; only a salted hash of "8909" is kept


def factor_call(make, locale: str = "pt-BR", **overrides: object):
    """A dialog under the name_and_factor policy."""
    return make(locale, verification="name_and_factor", **overrides)


def assert_nothing_said_about_the_debt(dialog, actions) -> None:
    """No prompt with a debt placeholder was played, and none of the reason's prompts."""
    for play in plays(actions):
        assert not DEBT_PLACEHOLDERS & dialog.catalog.placeholders(play.prompt_id), play
    assert not BEFORE_THE_REASON & set(prompt_ids(actions))
    assert_no_disclosure(dialog, actions)


# ---------------------------------------------------------------- the policy


def test_name_and_factor_asks_for_the_factor_after_a_yes_and_discloses_nothing(make):
    d = factor_call(make, birth_year=1985)
    start = d.start(CallAnswered())
    actions = d.handle(Speech("sim"))
    assert prompt_ids(actions) == ["check_birth_year"]
    assert not of(actions, RecordOutcome)
    assert_nothing_said_about_the_debt(d, start + actions)


def test_name_policy_goes_on_after_a_clear_yes(make):
    d = make(birth_year=1985)  # the default policy: the name suffices
    d.start(CallAnswered())
    actions = d.handle(Speech("sim"))
    assert RecordOutcome("right_party") in actions
    assert "reason" in prompt_ids(actions)


@pytest.mark.parametrize("keys", [["1985#"], ["19", "85"]])
def test_birth_year_verifies(make, keys):
    d = factor_call(make, birth_year=1985)
    d.start(CallAnswered())
    d.handle(Speech("sim"))
    actions: list = []
    for k in keys:
        actions += d.handle(Digits(k))
    assert RecordOutcome("right_party") in actions
    assert "reason" in prompt_ids(actions)
    assert d.answers.verified


@pytest.mark.parametrize("locale", ["pt-BR", "en-US"])
def test_document_digits_verify_when_no_birth_year_is_on_file(make, locale):
    d = factor_call(make, locale, document_digits=hash_document(CPF))
    start = d.start(CallAnswered())
    asked = d.handle(Speech("sim" if locale == "pt-BR" else "yes"))
    assert prompt_ids(asked) == ["check_document"]
    assert asked[-1].max_digits == 4
    assert_nothing_said_about_the_debt(d, start + asked)
    actions = d.handle(Digits("8909"))
    assert RecordOutcome("right_party") in actions
    assert "reason" in prompt_ids(actions)


def test_the_keys_of_a_factor_never_reach_the_call_log(make):
    d = factor_call(make, document_digits=hash_document(CPF))
    d.start(CallAnswered())
    d.handle(Speech("sim"))
    logged = of(d.handle(Digits("89")), LogTurn) + of(d.handle(Digits("09")), LogTurn)
    assert [t.data["digits"] for t in logged] == ["**", "****"]


@pytest.mark.parametrize(
    ("ctx", "wrong", "prompt"),
    [
        ({"birth_year": 1985}, ["1984#", "1958#", "2000#"], "check_birth_year"),
        ({"document_digits": hash_document(CPF)}, ["1234", "0989", "9098"], "check_document"),
    ],
)
def test_three_failed_factor_attempts_end_politely_and_disclose_nothing(make, ctx, wrong, prompt):
    d = factor_call(make, **ctx)
    actions = d.start(CallAnswered()) + d.handle(Speech("sim"))
    first, second, third = (d.handle(Digits(k)) for k in wrong)
    assert prompt_ids(first) == [prompt] and plays(first)[0].variant == 1
    assert prompt_ids(second) == [prompt] and plays(second)[0].variant == 2
    assert prompt_ids(third) == ["unverified_goodbye"]
    assert_goodbye_then_end(third)
    assert_nothing_said_about_the_debt(d, actions + first + second + third)
    assert d.outcome == "no_contact" and not d.answers.verified
    assert MarkWrongNumber() not in first + second + third


def test_silence_counts_as_a_failed_factor_attempt(make):
    d = factor_call(make, birth_year=1985)
    d.start(CallAnswered())
    d.handle(Speech("sim"))
    d.handle(Silence())
    d.handle(Digits("1111#"))
    assert prompt_ids(d.handle(Silence())) == ["unverified_goodbye"]


def test_a_factor_policy_with_no_factor_on_file_ends_without_disclosure(make):
    d = factor_call(make)
    start = d.start(CallAnswered())
    actions = d.handle(Speech("sim"))
    assert prompt_ids(actions) == ["unverified_goodbye"]
    assert_nothing_said_about_the_debt(d, start + actions)


# ---------------------------------------------------------------- opt-outs


@pytest.mark.parametrize("how", [Speech("não me ligue mais"), Digits("9")])
def test_opt_out_before_verification_suppresses_the_number_not_the_person(make, how):
    d = make()
    start = d.start(CallAnswered())
    actions = d.handle(how)
    assert OptOutNumber() in actions and OptOut() not in actions
    assert RecordOutcome("opt_out") in actions
    assert_nothing_said_about_the_debt(d, start + actions)


def test_opt_out_while_the_factor_is_asked_suppresses_the_number(make):
    d = factor_call(make, birth_year=1985)
    d.start(CallAnswered())
    d.handle(Speech("sim"))  # a yes is not verification under this policy
    actions = d.handle(Speech("não me ligue mais"))
    assert OptOutNumber() in actions and OptOut() not in actions


@pytest.mark.parametrize("how", [Speech("não me ligue mais"), Speech("pare de ligar")])
def test_opt_out_after_verification_opts_the_person_out(make, how):
    d = factor_call(make, birth_year=1985)
    d.start(CallAnswered())
    d.handle(Speech("sim"))
    d.handle(Digits("1985#"))
    actions = d.handle(how)
    assert OptOut() in actions and OptOutNumber() not in actions
    assert actions.index(OptOut()) < actions.index(plays(actions)[0])


def test_opt_out_after_verification_from_the_callback_question_opts_the_person_out(make):
    d = make()
    d.start(CallAnswered())
    d.handle(Speech("sim"))
    d.handle(Speech("me liga mais tarde"))  # ask_callback_time: the "anytime" branches
    actions = d.handle(Digits("9"))
    assert OptOut() in actions and OptOutNumber() not in actions


# ---------------------------------------------------------------- relatives


def test_a_relatives_no_is_followed_up_and_the_number_is_not_marked_wrong(make):
    d = make(first_name="Ana")
    start = d.start(CallAnswered())
    actions = d.handle(Speech("não"))
    assert MarkWrongNumber() not in actions
    assert prompt_ids(actions) == ["ask_number_owner"]
    assert "Este número é de Ana?" in d.rendered_text(plays(actions)[0])
    assert_nothing_said_about_the_debt(d, start + actions)


@pytest.mark.parametrize(
    "said",
    ["é sim, mas ela não está", "é dela sim, mas ela não pode atender", "ela trabalha à noite"],
)
def test_the_person_is_out_becomes_a_callback_without_a_word_about_a_debt(make, said):
    d = make(first_name="Ana")
    start = d.start(CallAnswered())
    asked = d.handle(Speech("não"))
    actions = d.handle(Speech(said))
    assert prompt_ids(actions) == ["not_available_goodbye"]
    assert len(of(actions, ScheduleCallback)) == 1
    assert MarkWrongNumber() not in asked + actions
    assert d.outcome == "no_contact"
    assert_goodbye_then_end(actions)
    assert_nothing_said_about_the_debt(d, start + asked + actions)


def test_yes_to_the_follow_up_is_a_callback_too(make):
    d = make(first_name="Ana")
    d.start(CallAnswered())
    d.handle(Digits("2"))
    actions = d.handle(Digits("1"))
    assert of(actions, ScheduleCallback) == [ScheduleCallback(None)]
    assert MarkWrongNumber() not in actions


@pytest.mark.parametrize(
    ("locale", "no", "wrong"),
    [("pt-BR", "não", "número errado"), ("en-US", "no", "wrong number")],
)
def test_an_explicit_wrong_number_after_the_follow_up_marks_it(make, locale, no, wrong):
    d = make(locale)
    start = d.start(CallAnswered())
    asked = d.handle(Speech(no))
    assert prompt_ids(asked) == ["ask_number_owner"]
    if locale == "en-US":
        assert "Do you know Mary?" in d.rendered_text(plays(asked)[0])
    actions = d.handle(Speech(wrong))
    assert prompt_ids(actions) == ["wrong_person"]
    assert MarkWrongNumber() in actions and RecordOutcome("wrong_party") in actions
    assert_nothing_said_about_the_debt(d, start + asked + actions)


def test_an_unanswered_follow_up_ends_without_marking_the_number(make):
    d = make()
    d.start(CallAnswered())
    actions = d.handle(Speech("não"))
    for _ in range(3):
        actions += d.handle(Silence())
    assert prompt_ids(actions)[-1] == "unverified_goodbye"
    assert MarkWrongNumber() not in actions
    assert d.outcome == "no_contact"


# ---------------------------------------------------------------- a death


@pytest.mark.parametrize(
    ("locale", "answers"),
    [
        ("pt-BR", ["ela faleceu"]),
        ("pt-BR", ["não", "ela faleceu"]),
        ("en-US", ["he passed away"]),
        ("en-US", ["no", "she passed away last year"]),
    ],
)
def test_deceased_stops_contact_with_condolences_and_no_debt_words(make, locale, answers):
    d = make(locale)
    actions = d.start(CallAnswered())
    for said in answers:
        actions += d.handle(Speech(said))
    assert prompt_ids(actions)[-1] == "deceased_condolences"
    assert of(actions, ReportDeceased) == [ReportDeceased()]
    assert actions.index(ReportDeceased()) < actions.index(plays(actions)[-1])
    assert MarkWrongNumber() not in actions and not of(actions, ScheduleCallback)
    assert_goodbye_then_end(actions)
    assert_nothing_said_about_the_debt(d, actions)


# ---------------------------------------------------------------- the flow as a whole


def _before_identity(flow: Flow) -> tuple[set[str], set[str]]:
    """States reachable from the start (or a machine) without passing the
    ``mark_verified`` step, and the prompts they can play."""
    seen: set[str] = set()
    todo = [flow.start, flow.on_machine]
    prompts: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        state = flow.states[name]
        if any(isinstance(step.action, MarkVerified) for step in state.do):
            continue
        prompts |= {s.action.prompt for s in state.do if isinstance(s.action, PlayPrompt)}
        prompts |= {p for p in (state.ask, state.keypad_prompt) if p}
        routes = list(state.on.values())
        if state.branches:
            routes += list(flow.branch_sets[state.branches].values())
        todo += [r.target for rs in routes for r in rs]
        todo += [state.goto] if state.goto else []
        policy = flow.reask_policies[state.reask]
        todo += [e.state for entries in policy.values() for e in entries if isinstance(e, Goto)]
    return seen, prompts


def test_everything_heard_before_verification_is_checked_for_disclosure(flow):
    states, prompts = _before_identity(flow)
    assert {"greet", "check_birth_year", "check_document", "ask_number_owner"} <= states
    assert "identified" not in states
    # tests/unit/test_prompts.py checks each of these for debt words and placeholders.
    assert prompts <= set(BEFORE_IDENTITY), sorted(prompts - set(BEFORE_IDENTITY))
