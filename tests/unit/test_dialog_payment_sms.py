"""Payment details by SMS in the call flow, with events only: asked only of the
verified caller the service can text, sent only after a yes, and about what
this call promised (or the open debt when asked for before a promise)."""

from __future__ import annotations

import datetime as dt

from ivr.dialog.conversation import Dialog
from ivr.dialog.events import (
    Action,
    CallAnswered,
    Digits,
    EndCall,
    Play,
    RecordPromise,
    SendPaymentDetails,
    Silence,
    Speech,
    TransferToAgent,
)
from tests.unit import test_dialog as base

flow = base.flow
catalogs = base.catalogs
PROMISED = base.TODAY + dt.timedelta(days=4)  # a Friday


def dialog(flow, catalogs, locale: str = "pt-BR", **ctx: object) -> Dialog:
    d = Dialog(base.make_ctx(locale, **ctx), flow, catalogs[locale])
    d.start(CallAnswered())
    return d


def prompts(actions: list[Action]) -> list[str]:
    return [a.prompt_id for a in actions if isinstance(a, Play)]


def sends(actions: list[Action]) -> list[SendPaymentDetails]:
    return [a for a in actions if isinstance(a, SendPaymentDetails)]


def promise_made(d: Dialog) -> list[Action]:
    """Verified by "1", a date keyed, "1" to confirm it: what the confirmation does."""
    d.handle(Digits("1"))
    d.handle(Digits(f"{PROMISED:%d%m}#"))
    assert d.state == "confirm_promise"
    return d.handle(Digits("1"))


def test_after_a_promise_consent_is_asked_and_yes_sends_then_confirms(flow, catalogs):
    d = dialog(flow, catalogs, sms_possible=True)
    after = promise_made(d)
    assert [a for a in after if isinstance(a, RecordPromise)] == [
        RecordPromise(PROMISED, base.AMOUNT)
    ]
    assert prompts(after)[-1] == "ask_sms_consent"
    assert "promise_thanks" not in prompts(after)  # no goodbye before the question
    assert sends(after) == []
    yes = d.handle(Digits("1"))
    assert sends(yes) == [SendPaymentDetails(((PROMISED, base.AMOUNT),))]
    # The action comes first, then the short confirmation, then the end.
    kinds = [type(a) for a in yes if isinstance(a, SendPaymentDetails | Play | EndCall)]
    assert kinds == [SendPaymentDetails, Play, EndCall]
    assert prompts(yes) == ["payment_details_sent"]
    assert d.outcome == "promise"


def test_spoken_consent_in_each_locale(flow, catalogs):
    for locale, words in (("pt-BR", "pode mandar"), ("en-US", "yes please")):
        d = dialog(flow, catalogs, locale, sms_possible=True)
        promise_made(d)
        assert d.state == "promise_recorded_sms"
        assert len(sends(d.handle(Speech(words)))) == 1, locale


def test_no_sends_nothing_and_ends_kindly_keeping_the_promise(flow, catalogs):
    d = dialog(flow, catalogs, sms_possible=True)
    promise_made(d)
    no = d.handle(Digits("2"))
    assert sends(no) == []
    assert prompts(no) == ["sms_declined_goodbye"]
    assert d.finished and d.outcome == "promise"


def test_silence_at_the_question_never_sends(flow, catalogs):
    d = dialog(flow, catalogs, sms_possible=True)
    promise_made(d)
    actions: list[Action] = []
    while not d.finished:
        actions += d.handle(Silence())
    assert sends(actions) == []
    assert prompts(actions)[-1] == "sms_declined_goodbye"
    assert d.outcome == "promise"


def test_a_debtor_the_service_cannot_text_is_never_asked(flow, catalogs):
    d = dialog(flow, catalogs, sms_possible=False)  # a landline, or SMS stopped
    after = promise_made(d)
    assert prompts(after)[-1] == "promise_thanks"
    assert "ask_sms_consent" not in prompts(after)
    assert d.finished and sends(after) == []
    d = dialog(flow, catalogs, sms_possible=False)
    d.handle(Digits("1"))
    asked = d.handle(Digits("6"))  # payment details: a person, as before
    assert d.state == "to_agent_payment_details"
    assert "ask_sms_consent" not in prompts(asked)
    assert any(isinstance(a, TransferToAgent) for a in asked)


def test_asked_for_before_a_promise_the_sms_is_about_the_open_debt(flow, catalogs):
    d = dialog(flow, catalogs, sms_possible=True)
    d.handle(Digits("1"))
    asked = d.handle(Digits("6"))
    assert prompts(asked) == ["ask_sms_consent"]
    yes = d.handle(Speech("sim"))
    assert sends(yes) == [SendPaymentDetails(())]
    assert prompts(yes) == ["payment_details_sent"]
    assert d.outcome == "right_party"


def test_declined_before_a_promise_a_person_is_offered(flow, catalogs):
    d = dialog(flow, catalogs, sms_possible=True)
    d.handle(Digits("1"))
    d.handle(Digits("6"))
    no = d.handle(Digits("2"))
    assert prompts(no) == ["offer_agent_payment_details"] and sends(no) == []
    yes = d.handle(Digits("1"))
    assert any(isinstance(a, TransferToAgent) for a in yes) and sends(yes) == []


def test_an_unverified_caller_asking_for_payment_details_hears_nothing_of_a_debt(flow, catalogs):
    d = dialog(flow, catalogs, sms_possible=True)
    actions = d.handle(Speech("me manda os dados para pagamento"))
    actions += d.handle(Digits("6"))
    assert sends(actions) == []
    assert d.state == "greet" and not d.answers.verified
    said = " ".join(d.rendered_text(p) for p in actions if isinstance(p, Play))
    for secret in ("Loja Azul", "150", "pagamento", "SMS"):
        assert secret not in said, secret
    assert set(prompts(actions)) <= {"greet", "keypad_identity"}
