"""Every branch of the call flow, driven by events only (real NLU, no audio)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from ivr.dialog.conversation import Dialog
from ivr.dialog.events import (
    CallAnswered,
    CallContext,
    Digits,
    EndCall,
    Hangup,
    Listen,
    LogTurn,
    MachineAnswered,
    MarkWrongNumber,
    OptOut,
    OptOutNumber,
    Play,
    PromptDone,
    RecordAlreadyPaid,
    RecordOutcome,
    RecordPlan,
    RecordPromise,
    ScheduleCallback,
    Silence,
    Speech,
    TransferToAgent,
)
from ivr.dialog.flow_model import Flow
from ivr.dialog.prompt_values import base_variables, personal_prompts
from ivr.dialog.prompts import PromptCatalog

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ROOT / "prompts"
TODAY = dt.date(2025, 11, 24)  # a Monday
FRIDAY = dt.date(2025, 11, 28)
AMOUNT = 15090
MINI_MIRANDA_FIRST = (
    "This is an attempt to collect a debt, and any information obtained will be used "
    "for that purpose."
)
MINI_MIRANDA_LATER = "This communication is from a debt collector."
DEBT_WORDS = re.compile(
    r"d[íi]vida|d[ée]bito|debt|cobran|pagamento|payment|parcela|installment|valor|"
    r"amount|vencimento|due|Loja Azul|Blue Store",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def flow() -> Flow:
    return Flow.load(prompts_root=PROMPTS)


@pytest.fixture(scope="module")
def catalogs() -> dict[str, PromptCatalog]:
    return {loc: PromptCatalog.load(loc, root=PROMPTS) for loc in ("pt-BR", "en-US")}


def make_ctx(locale: str = "pt-BR", **overrides: object) -> CallContext:
    values: dict[str, object] = {
        "locale": locale,
        "first_name": "Maria" if locale == "pt-BR" else "Mary",
        "creditor": "Loja Azul" if locale == "pt-BR" else "Blue Store",
        "company": "Central Aurora" if locale == "pt-BR" else "Aurora Services",
        "amount_cents": AMOUNT,
        "currency": "BRL" if locale == "pt-BR" else "USD",
        "due_date": dt.date(2025, 10, 10),
        "today": TODAY,
        "callback_number": "+551140028922" if locale == "pt-BR" else "+18005550100",
        "recorded": True,  # the campaign default: the carrier records the call
    }
    values.update(overrides)
    return CallContext(**values)  # type: ignore[arg-type]


@pytest.fixture
def make(flow, catalogs):
    def _make(locale: str = "pt-BR", **overrides: object) -> Dialog:
        ctx = make_ctx(locale, **overrides)
        return Dialog(ctx, flow, catalogs[locale])

    return _make


def plays(actions) -> list[Play]:
    return [a for a in actions if isinstance(a, Play)]


def prompt_ids(actions) -> list[str]:
    return [p.prompt_id for p in plays(actions)]


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


def texts(dialog: Dialog, actions) -> list[str]:
    return [dialog.rendered_text(p) for p in plays(actions)]


def identified(dialog: Dialog) -> list:
    """Start the call and confirm the right party by voice."""
    dialog.start(CallAnswered())
    return dialog.handle(Speech("sim" if dialog.ctx.locale == "pt-BR" else "yes"))


def assert_no_disclosure(dialog: Dialog, actions) -> None:
    """Nothing said reveals the debt, the amount, the due date or the creditor."""
    secret = base_variables(dialog.ctx)
    for play in plays(actions):
        assert not {
            "amount",
            "creditor",
            "creditor_with_article",
            "due_date",
            "installment_amount",
        } & set(play.variables)
        text = dialog.rendered_text(play)
        assert not DEBT_WORDS.search(text), text
        for name in ("amount", "creditor", "due_date"):
            assert secret[name] not in text, text
    assert not of(actions, RecordPromise)


def assert_goodbye_then_end(actions) -> None:
    """Closing always plays something before hanging up, and hangs up last."""
    assert isinstance(actions[-1], EndCall)
    assert plays(actions), "no goodbye before EndCall"


# ---------------------------------------------------------------- the happy paths


def test_greeting_asks_for_the_person_and_listens(make):
    d = make()
    actions = d.start(CallAnswered())
    assert prompt_ids(actions) == ["greet"]
    assert actions[-1] == Listen(grammar="confirm_identity", timeout_s=6.0, max_digits=1)
    text = d.rendered_text(plays(actions)[0])
    assert "Maria" in text and "Central Aurora" in text and "assistente automática" in text
    assert_no_disclosure(d, actions)
    assert d.state == "greet" and d.outcome is None and not d.finished


def test_speech_promise_happy_path(make):
    d = make()
    d.start(CallAnswered())
    actions = d.handle(Speech("sim", confidence=0.9))
    assert of(actions, RecordOutcome) == [RecordOutcome("right_party")]
    assert prompt_ids(actions) == ["notice_first", "reason", "ask_payment_date"]
    notice, reason, _ask = texts(d, actions)
    assert "gravada" in notice
    assert base_variables(d.ctx)["amount"] in reason and "Loja Azul" in reason
    assert actions[-1].grammar == "ask_payment_date"
    assert of(actions, LogTurn)[0].data["intent"] == "yes"

    actions = d.handle(Speech("sexta"))
    assert prompt_ids(actions) == ["confirm_promise"]
    assert d.state == "confirm_promise"
    confirm = plays(actions)[0]
    assert confirm.variables["promise_amount"] == base_variables(d.ctx)["amount"]
    assert "promise_date" in confirm.variables

    actions = d.handle(Speech("sim"))
    promise_at = actions.index(RecordPromise(FRIDAY, AMOUNT))
    thanks_at = next(i for i, a in enumerate(actions) if isinstance(a, Play))
    assert promise_at < thanks_at, "the promise is committed before the read-back"
    assert RecordOutcome("promise") in actions
    assert prompt_ids(actions) == ["promise_thanks"]
    assert_goodbye_then_end(actions)
    assert d.finished and d.outcome == "promise"


def test_keypad_only_promise(make):
    d = make()
    d.start(CallAnswered())
    actions = d.handle(Digits("1"))
    assert RecordOutcome("right_party") in actions
    listen = actions[-1]
    assert isinstance(listen, Listen) and listen.max_digits >= 4
    # keys may arrive one by one; nothing happens until '#'
    for key in "2811":
        assert not plays(d.handle(Digits(key)))
    actions = d.handle(Digits("#"))
    assert prompt_ids(actions) == ["confirm_promise"]
    assert of(actions, LogTurn)[-1].data["digits"] == "2811"
    actions = d.handle(Digits("1"))
    assert of(actions, RecordPromise) == [RecordPromise(dt.date(2025, 11, 28), AMOUNT)]
    assert d.outcome == "promise" and d.finished


def test_keypad_date_in_one_event(make):
    d = make()
    d.start(CallAnswered())
    d.handle(Digits("1"))
    actions = d.handle(Digits("0512#"))
    assert d.state == "confirm_promise", actions
    actions = d.handle(Digits("1"))
    assert of(actions, RecordPromise) == [RecordPromise(dt.date(2025, 12, 5), AMOUNT)]


def test_promise_with_a_smaller_amount(make):
    d = make()
    identified(d)
    actions = d.handle(Speech("posso pagar cem reais na sexta"))
    assert d.state == "confirm_promise", actions
    assert plays(actions)[0].variables["promise_amount"] != base_variables(d.ctx)["amount"]
    actions = d.handle(Speech("sim"))
    assert of(actions, RecordPromise) == [RecordPromise(FRIDAY, 10000)]


def test_confirmation_no_lets_the_caller_correct_the_date(make):
    d = make()
    identified(d)
    d.handle(Speech("sexta"))
    actions = d.handle(Digits("2"))
    assert prompt_ids(actions) == ["promise_adjust"]
    assert not of(actions, RecordPromise)
    d.handle(Digits("0512#"))
    actions = d.handle(Speech("sim"))
    assert of(actions, RecordPromise) == [RecordPromise(dt.date(2025, 12, 5), AMOUNT)]


# ---------------------------------------------------------------- who is it?


@pytest.mark.parametrize(
    "answers",
    [
        [Speech("número errado")],
        # A plain "não" gets one follow-up ("Este número é de Maria?"): a
        # relative may have answered. A second "não" is a wrong number.
        [Speech("não"), Speech("não")],
        [Digits("2"), Digits("2")],
    ],
)
def test_wrong_person_hears_nothing_about_the_debt(make, answers):
    d = make()
    first = d.start(CallAnswered())
    for answer in answers[:-1]:
        first += d.handle(answer)
        assert MarkWrongNumber() not in first
    actions = d.handle(answers[-1])
    assert prompt_ids(actions) == ["wrong_person"]
    assert MarkWrongNumber() in actions
    assert RecordOutcome("wrong_party") in actions
    assert_goodbye_then_end(actions)
    assert_no_disclosure(d, first + actions)
    assert d.outcome == "wrong_party" and d.finished


def test_wrong_person_in_english_hears_nothing_about_the_debt(make):
    d = make("en-US")
    first = d.start(CallAnswered())
    first += d.handle(Speech("no"))  # "Do you know Mary?"
    actions = d.handle(Speech("no"))
    assert MarkWrongNumber() in actions
    assert_no_disclosure(d, first + actions)
    assert not any("collect" in t for t in texts(d, first + actions))


def test_voicemail_leaves_a_limited_message(make):
    for locale in ("pt-BR", "en-US"):
        d = make(locale)
        actions = d.start(MachineAnswered())
        assert prompt_ids(actions) == ["voicemail"]
        assert RecordOutcome("voicemail") in actions
        assert_goodbye_then_end(actions)
        assert_no_disclosure(d, actions)
        text = texts(d, actions)[0]
        assert d.ctx.company in text
        assert base_variables(d.ctx)["callback_number"] in text
        assert d.outcome == "voicemail"


def test_machine_detected_after_the_greeting_started(make):
    d = make()
    d.start(CallAnswered())
    actions = d.handle(MachineAnswered())
    assert prompt_ids(actions) == ["voicemail"]
    assert_no_disclosure(d, actions)
    assert d.finished and d.outcome == "voicemail"


def test_machine_detection_is_ignored_once_a_person_answered(make):
    d = make()
    identified(d)
    assert d.handle(MachineAnswered()) == []
    assert d.state == "ask_payment_date"


def test_unclear_identity_asks_for_the_birth_year_on_the_keypad(make):
    d = make(birth_year=1985)
    d.start(CallAnswered())
    actions = d.handle(Speech("hmm talvez quem sabe", confidence=0.9))
    assert prompt_ids(actions) == ["check_birth_year"]
    assert actions[-1].max_digits == 4
    assert_no_disclosure(d, actions)
    actions = d.handle(Digits("1985"))
    assert RecordOutcome("right_party") in actions
    assert "reason" in prompt_ids(actions)


def test_wrong_birth_year_three_times_ends_politely_without_disclosure(make):
    d = make(birth_year=1985)
    start = d.start(CallAnswered())
    a1 = d.handle(Speech("hmm talvez quem sabe"))
    a2 = d.handle(Digits("1979#"))
    assert prompt_ids(a2) == ["check_birth_year"] and plays(a2)[0].variant == 1
    a2 += d.handle(Digits("1981#"))
    assert prompt_ids(a2)[-1] == "check_birth_year" and plays(a2)[-1].variant == 2
    a3 = d.handle(Digits("1980#"))
    assert prompt_ids(a3) == ["unverified_goodbye"]
    assert_goodbye_then_end(a3)
    assert_no_disclosure(d, start + a1 + a2 + a3)
    assert d.outcome == "no_contact"
    assert MarkWrongNumber() not in a3


def test_low_recognizer_confidence_counts_as_unclear(make):
    d = make()
    d.start(CallAnswered())
    actions = d.handle(Speech("sim", confidence=0.1))
    assert not of(actions, RecordOutcome)
    assert prompt_ids(actions) == ["greet"] and plays(actions)[0].variant == 1


# ---------------------------------------------------------------- notices


def test_us_mini_miranda_comes_after_the_right_party_check_and_not_before(make):
    d = make("en-US")
    before = d.start(CallAnswered())
    assert not any("debt" in t.lower() for t in texts(d, before))
    after = d.handle(Speech("yes"))
    spoken = texts(d, after)
    assert MINI_MIRANDA_FIRST in spoken[0]
    assert after.index(RecordOutcome("right_party")) < after.index(plays(after)[0])
    assert plays(after)[0].barge_in is False


def test_us_later_contacts_get_the_short_notice(make):
    d = make("en-US", first_contact=False)
    d.start(CallAnswered())
    spoken = " ".join(texts(d, d.handle(Digits("1"))))
    assert MINI_MIRANDA_LATER in spoken
    assert MINI_MIRANDA_FIRST not in spoken


def test_brazilian_recording_notice_after_right_party(make):
    d = make()
    before = d.start(CallAnswered())
    assert not any("gravada" in t for t in texts(d, before))
    spoken = texts(d, d.handle(Digits("1")))
    assert "ligação é gravada" in spoken[0]


@pytest.mark.parametrize(
    ("locale", "word", "kept"),
    [
        ("pt-BR", "gravad", "Lei Geral de Proteção de Dados"),
        ("en-US", "record", MINI_MIRANDA_FIRST),
    ],
)
def test_an_unrecorded_call_never_says_it_is_recorded(make, locale, word, kept):
    d = make(locale, recorded=False)
    d.start(CallAnswered())
    notice = texts(d, d.handle(Digits("1")))[0]
    assert word not in notice.lower()
    assert kept in notice and "  " not in notice
    later = make(locale, recorded=False, first_contact=False)
    later.start(CallAnswered())
    assert word not in texts(later, later.handle(Digits("1")))[0].lower()


# ---------------------------------------------------------------- branches


@pytest.mark.parametrize("answer", [Speech("quero falar com um atendente"), Digits("0")])
def test_agent_at_the_greeting(make, answer):
    d = make()
    d.start(CallAnswered())
    actions = d.handle(answer)
    assert of(actions, TransferToAgent) == [TransferToAgent("asked_for_agent")]
    assert RecordOutcome("agent") in actions
    assert prompt_ids(actions) == ["transfer_agent"]
    assert_no_disclosure(d, actions)
    assert d.finished and d.outcome == "agent"


@pytest.mark.parametrize("answer", [Speech("quero falar com um atendente"), Digits("0#")])
def test_agent_mid_flow(make, answer):
    d = make()
    identified(d)
    actions = d.handle(answer)
    assert of(actions, TransferToAgent) == [TransferToAgent("asked_for_agent")]
    assert isinstance(actions[-1], TransferToAgent)
    assert d.outcome == "agent"


def test_cannot_pay_then_installments_yes(make):
    d = make()
    identified(d)
    actions = d.handle(Speech("não tenho como pagar agora"))
    assert prompt_ids(actions) == ["offer_installments"]
    offer = plays(actions)[0]
    assert offer.variables["installments"] == "três"  # parcelas: feminine, in words
    actions = d.handle(Digits("1"))
    assert prompt_ids(actions) == ["ask_installment_date"]
    actions = d.handle(Digits("0512#"))
    assert prompt_ids(actions) == ["confirm_installments"]
    actions = d.handle(Digits("1"))
    # The offered three instalments are one plan, a month apart, summing to the debt.
    assert of(actions, RecordPromise) == []
    (plan,) = of(actions, RecordPlan)
    assert plan.instalments == (
        (dt.date(2025, 12, 5), 5030),
        (dt.date(2026, 1, 5), 5030),
        (dt.date(2026, 2, 5), d.ctx.amount_cents - 2 * 5030),
    )
    assert sum(c for _, c in plan.instalments) == d.ctx.amount_cents
    assert prompt_ids(actions) == ["installments_thanks"]
    assert d.outcome == "promise"


def test_cannot_pay_installments_no_then_agent(make):
    d = make()
    identified(d)
    d.handle(Speech("não tenho como pagar agora"))
    actions = d.handle(Digits("2"))
    assert prompt_ids(actions) == ["offer_agent"]
    actions = d.handle(Digits("1"))
    assert of(actions, TransferToAgent) == [TransferToAgent("cannot_pay")]


def test_cannot_pay_installments_no_agent_no_ends_kindly(make):
    d = make()
    identified(d)
    d.handle(Speech("não tenho como pagar agora"))
    d.handle(Speech("não"))
    actions = d.handle(Digits("2"))
    assert RecordOutcome("refused") in actions
    assert prompt_ids(actions) == ["refused_goodbye"]
    assert_goodbye_then_end(actions)
    assert d.outcome == "refused"


def test_cannot_pay_without_installments_goes_to_an_agent_offer(make):
    d = make(installments=1)
    identified(d)
    actions = d.handle(Speech("não tenho como pagar agora"))
    assert prompt_ids(actions) == ["offer_agent"]


def test_already_paid(make):
    d = make()
    identified(d)
    actions = d.handle(Speech("eu já paguei"))
    assert actions.index(RecordAlreadyPaid()) < actions.index(RecordOutcome("already_paid"))
    assert prompt_ids(actions) == ["already_paid_thanks"]
    assert_goodbye_then_end(actions)
    assert d.outcome == "already_paid"


def test_callback_with_a_time(make):
    d = make()
    identified(d)
    actions = d.handle(Speech("me liga amanhã às dez horas"))
    assert of(actions, ScheduleCallback) == [ScheduleCallback(dt.datetime(2025, 11, 25, 10, 0))]
    assert RecordOutcome("callback") in actions
    assert prompt_ids(actions) == ["callback_confirm"]
    when = plays(actions)[0].variables["callback_when"]
    assert when.startswith("amanhã") and "dez da manhã" in when
    assert_goodbye_then_end(actions)


def test_callback_without_a_time_asks_when(make):
    d = make()
    identified(d)
    actions = d.handle(Speech("agora não posso falar, me liga mais tarde"))
    assert prompt_ids(actions) == ["ask_callback_time"]
    assert actions[-1].grammar == "ask_callback_time"
    actions = d.handle(Digits("2"))
    assert of(actions, ScheduleCallback) == [ScheduleCallback(dt.datetime(2025, 11, 25, 15, 0))]
    assert d.outcome == "callback"


def test_callback_any_time_by_keypad(make):
    d = make()
    identified(d)
    d.handle(Speech("me liga mais tarde"))
    actions = d.handle(Digits("4"))  # 4: call me later, any time
    assert of(actions, ScheduleCallback) == [ScheduleCallback(None)]
    assert prompt_ids(actions) == ["callback_confirm_any"]


def test_callback_before_identity_discloses_nothing(make):
    d = make()
    start = d.start(CallAnswered())
    a1 = d.handle(Speech("agora não posso, me liga mais tarde"))
    a2 = d.handle(Digits("1"))
    assert of(a2, ScheduleCallback) == [ScheduleCallback(dt.datetime(2025, 11, 25, 10, 0))]
    assert_no_disclosure(d, start + a1 + a2)


@pytest.mark.parametrize("at_greeting", [True, False])
def test_stop_calling_opts_out_at_once(make, at_greeting):
    d = make()
    if at_greeting:
        d.start(CallAnswered())
    else:
        identified(d)
    actions = d.handle(Speech("não me ligue mais"))
    # Before the person is verified only the number is opted out; after, the person.
    stop = OptOutNumber() if at_greeting else OptOut()
    assert (OptOut() if at_greeting else OptOutNumber()) not in actions
    assert actions.index(stop) < actions.index(plays(actions)[0])
    assert RecordOutcome("opt_out") in actions
    assert prompt_ids(actions) == ["opt_out_confirm"]
    assert_goodbye_then_end(actions)
    assert d.outcome == "opt_out"
    if at_greeting:
        assert_no_disclosure(d, actions)


def test_stop_calling_by_keypad_nine(make):
    d = make()
    d.start(CallAnswered())
    assert OptOutNumber() in d.handle(Digits("9"))


def test_dispute_goes_to_an_agent(make):
    d = make()
    identified(d)
    actions = d.handle(Speech("não reconheço essa dívida"))
    assert of(actions, TransferToAgent) == [TransferToAgent("dispute")]
    assert prompt_ids(actions) == ["transfer_dispute"]


def test_repeat_says_it_again(make):
    d = make()
    first = identified(d)
    actions = d.handle(Speech("pode repetir"))
    assert prompt_ids(actions) == prompt_ids(first)
    assert isinstance(actions[-1], Listen)


# ---------------------------------------------------------------- not heard, not understood


def test_silence_three_times_ends_with_a_polite_goodbye(make):
    d = make()
    d.start(CallAnswered())
    a1 = d.handle(Silence())
    assert [(p.prompt_id, p.variant) for p in plays(a1)] == [("greet", 1)]
    assert isinstance(a1[-1], Listen)
    a2 = d.handle(Silence())
    assert prompt_ids(a2) == ["keypad_identity"]
    a3 = d.handle(Silence())
    assert prompt_ids(a3) == ["no_response_goodbye"]
    assert RecordOutcome("no_contact") in a3
    assert_goodbye_then_end(a3)
    assert_no_disclosure(d, a1 + a2 + a3)
    assert d.outcome == "no_contact"


def test_reasks_use_different_words(make):
    d = make()
    first = d.start(CallAnswered())
    again = d.handle(Silence())
    assert texts(d, first) != texts(d, again)


def test_not_understood_escalates_to_the_keypad_then_an_agent(make):
    d = make()
    identified(d)
    a1 = d.handle(Speech("batata azul voadora"))
    assert [(p.prompt_id, p.variant) for p in plays(a1)] == [("ask_payment_date", 1)]
    a2 = d.handle(Speech("batata azul voadora"))
    assert prompt_ids(a2) == ["keypad_date"]
    assert "jogo da velha" in texts(d, a2)[0]
    a3 = d.handle(Speech("batata azul voadora"))
    assert of(a3, TransferToAgent) == [TransferToAgent("not_understood")]
    assert prompt_ids(a3) == ["transfer_not_understood"]
    assert d.outcome == "agent"


def test_silence_mid_flow_keeps_the_right_party_outcome(make):
    d = make()
    identified(d)
    d.handle(Silence())
    d.handle(Silence())
    actions = d.handle(Silence())
    assert prompt_ids(actions) == ["no_response_goodbye"]
    assert not of(actions, RecordOutcome)
    assert d.outcome == "right_party"


def test_keys_typed_then_silence_count_as_an_entry(make):
    d = make()
    identified(d)
    d.handle(Digits("2811"))
    actions = d.handle(Silence())
    assert d.state == "confirm_promise", actions


def test_unmapped_key_is_not_understood(make):
    d = make()
    d.start(CallAnswered())
    actions = d.handle(Digits("7"))
    assert [(p.prompt_id, p.variant) for p in plays(actions)] == [("greet", 1)]


# ---------------------------------------------------------------- dates out of range


def test_promise_too_far_in_the_future_is_negotiated(make):
    d = make()
    identified(d)
    actions = d.handle(Digits("2001#"))  # 20 January: beyond the 30 days allowed
    assert prompt_ids(actions) == ["date_too_far"]
    latest = plays(actions)[0].variables["latest_date"]
    assert latest == base_variables(d.ctx)["latest_date"]
    assert latest in texts(d, actions)[0]
    assert not of(actions, RecordPromise)
    actions = d.handle(Speech("sexta"))
    assert prompt_ids(actions) == ["confirm_promise"]
    assert RecordPromise(FRIDAY, AMOUNT) in d.handle(Digits("1"))


def test_promise_too_far_by_voice(make):
    d = make(max_promise_days=10)
    identified(d)
    actions = d.handle(Speech("dia vinte de dezembro"))
    assert prompt_ids(actions) == ["date_too_far"]


def test_always_too_far_ends_with_an_agent(make):
    d = make()
    identified(d)
    d.handle(Digits("2001#"))
    a2 = d.handle(Digits("2101#"))
    assert [(p.prompt_id, p.variant) for p in plays(a2)] == [("date_too_far", 1)]
    d.handle(Digits("2201#"))
    a4 = d.handle(Digits("2301#"))
    assert of(a4, TransferToAgent) == [TransferToAgent("negotiation")]


def test_promise_in_the_past_is_refused_kindly(make):
    d = make()
    identified(d)
    actions = d.handle(Digits("01112025#"))
    assert prompt_ids(actions) == ["date_in_past"]
    assert not of(actions, RecordPromise)
    actions = d.handle(Speech("sexta"))
    assert prompt_ids(actions) == ["confirm_promise"]


def test_a_promise_for_today_is_fine(make):
    d = make()
    identified(d)
    actions = d.handle(Speech("hoje"))
    assert prompt_ids(actions) == ["confirm_promise"]
    assert RecordPromise(TODAY, AMOUNT) in d.handle(Speech("sim"))


# ---------------------------------------------------------------- line events


def test_hangup_mid_flow_stops_and_keeps_the_outcome(make):
    d = make()
    identified(d)
    d.handle(Speech("sexta"))
    actions = d.handle(Hangup())
    assert of(actions, LogTurn)[0].kind == "hangup"
    assert not of(actions, RecordPromise) and not of(actions, RecordOutcome)
    assert d.finished and d.outcome == "right_party"
    assert d.handle(Speech("sim")) == []


def test_hangup_before_anything_records_no_contact(make):
    d = make()
    d.start(CallAnswered())
    actions = d.handle(Hangup())
    assert RecordOutcome("no_contact") in actions
    assert d.outcome == "no_contact"


def test_partial_speech_means_nothing_but_final_speech_during_a_prompt_is_handled(make):
    d = make()
    greet = plays(d.start(CallAnswered()))[0]
    assert greet.play_id in d.pending_plays
    assert d.handle(Speech("si", final=False)) == []
    actions = d.handle(Speech("sim"))  # barge-in: the greeting never finished
    assert RecordOutcome("right_party") in actions
    assert d.handle(PromptDone(greet.play_id)) == []
    assert greet.play_id not in d.pending_plays


def test_every_play_has_a_unique_id_and_questions_end_with_listen(make):
    d = make()
    seen: set[str] = set()
    batches = [d.start(CallAnswered()), d.handle(Silence()), d.handle(Digits("1"))]
    batches.append(d.handle(Speech("sexta")))
    for actions in batches:
        for play in plays(actions):
            assert play.play_id and play.play_id not in seen
            seen.add(play.play_id)
        assert isinstance(actions[-1], Listen)
        assert isinstance(actions[-2], Play)


def test_caller_turns_are_logged(make):
    d = make()
    d.start(CallAnswered())
    speech = of(d.handle(Speech("sim", confidence=0.8)), LogTurn)[0]
    assert speech.kind == "speech"
    assert speech.data["text"] == "sim" and speech.data["confidence"] == 0.8
    assert speech.data["intent"] == "yes"
    dtmf = of(d.handle(Digits("0512#")), LogTurn)[0]
    assert dtmf.kind == "dtmf" and dtmf.data["digits"] == "0512"


def test_start_twice_is_an_error(make):
    d = make()
    d.start(CallAnswered())
    with pytest.raises(RuntimeError):
        d.start(CallAnswered())


def test_english_happy_path(make):
    d = make("en-US")
    d.start(CallAnswered())
    d.handle(Speech("yes"))
    actions = d.handle(Speech("friday"))
    assert prompt_ids(actions) == ["confirm_promise"]
    actions = d.handle(Speech("yes"))
    assert RecordPromise(FRIDAY, AMOUNT) in actions


# ---------------------------------------------------------------- before dialing


def test_personal_prompts_are_rendered_before_dialing(flow, catalogs):
    ctx = make_ctx()
    rendered = personal_prompts(ctx, flow, catalogs["pt-BR"])
    ids = {pid for pid, _text, _variant in rendered}
    assert {"greet", "reason", "voicemail", "offer_installments"} <= ids
    assert "transfer_agent" not in ids  # not personal: shared by all calls
    assert "confirm_promise" not in ids  # depends on what the caller says
    for pid, text, variant in rendered:
        assert text == catalogs["pt-BR"].render(
            pid, base_variables(ctx, catalogs["pt-BR"]), variant
        )
        assert "{" not in text
    greet_variants = sorted(v for pid, _t, v in rendered if pid == "greet")
    assert greet_variants == list(range(catalogs["pt-BR"].variants("greet")))


def test_the_dialog_plays_exactly_the_pre_rendered_text(flow, catalogs):
    ctx = make_ctx()
    rendered = {(pid, v): text for pid, text, v in personal_prompts(ctx, flow, catalogs["pt-BR"])}
    d = Dialog(ctx, flow, catalogs["pt-BR"])
    for play in plays(d.start(CallAnswered()) + d.handle(Digits("1"))):
        if (play.prompt_id, play.variant) in rendered:
            assert d.rendered_text(play) == rendered[(play.prompt_id, play.variant)]


# ---------------------------------------------------------------- waiting for an agent


def test_long_wait_for_an_agent_offers_a_callback(make):
    d = make()
    d.start(CallAnswered())
    d.handle(Digits("0"))
    assert d.finished
    actions = d.resume("queue_offer_callback")
    assert prompt_ids(actions) == ["queue_offer_callback"]
    assert actions[-1].grammar == "queue_callback"
    assert_no_disclosure(d, actions)
    actions = d.handle(Speech("sim"))
    assert of(actions, ScheduleCallback) == [ScheduleCallback(None)]
    assert d.outcome == "callback"
    assert_goodbye_then_end(actions)


def test_caller_may_keep_waiting_for_an_agent(make):
    d = make()
    identified(d)
    d.handle(Digits("0#"))
    d.resume("queue_offer_callback")
    actions = d.handle(Digits("2"))
    assert of(actions, TransferToAgent) == [TransferToAgent("keep_waiting")]
    assert prompt_ids(actions) == ["queue_keep_waiting"]


def test_resume_only_at_entry_points(make):
    d = make()
    d.start(CallAnswered())
    with pytest.raises(ValueError, match="greet"):
        d.resume("greet")


def test_a_misheard_answer_leaves_no_slot_behind(make):
    d = make()
    identified(d)
    d.handle(Speech("dia 40"))  # no such day: not understood, re-asked
    actions = d.handle(Speech("sexta"))
    assert plays(actions)[0].variables["promise_amount"] == base_variables(d.ctx)["amount"]
    assert RecordPromise(FRIDAY, AMOUNT) in d.handle(Digits("1"))


def test_endless_back_and_forth_ends_with_a_person(make):
    d = make()
    identified(d)
    turns = 0
    for entry in ["01112025#", "2001#"] * 20:
        actions = d.handle(Digits(entry))
        turns += 1
        if d.finished:
            break
    assert d.finished and turns <= d.flow.max_turns + 1
    assert of(actions, TransferToAgent) == [TransferToAgent("not_understood")]
