"""The inbound flow with events alone: who is calling, verification before any
word about a debt, and the self-service menu."""

from __future__ import annotations

import datetime as dt

from ivr.dialog.conversation import Dialog
from ivr.dialog.events import (
    CallAnswered,
    CallContext,
    CallerLookup,
    CallerVerified,
    Digits,
    IdentifyCaller,
    LookUpCaller,
    Play,
    RecordPromise,
    SendPaymentDetails,
)
from ivr.dialog.flow_model import Flow
from ivr.dialog.prompts import PromptCatalog
from ivr.vocab.verification import VerificationPolicy
from tests.unit import test_dialog as base

flow = Flow.load(prompts_root=base.PROMPTS)
CATALOG = PromptCatalog.load("pt-BR", base.PROMPTS)


def person(debtor_id: int, name: str, creditor: str, cents: int, year: int) -> CallContext:
    return base.make_ctx(
        first_name=name,
        creditor=creditor,
        amount_cents=cents,
        birth_year=year,
        verification=VerificationPolicy.NAME_AND_FACTOR,
        inbound=True,
        debtor_id=debtor_id,
    )


ANA = person(1, "Ana", "Loja Azul", 15000, 1980)
BRUNO = person(2, "Bruno", "Banco Verde", 98765, 1990)


def caller(*people: CallContext) -> Dialog:
    ctx = base.make_ctx(first_name="", creditor="", amount_cents=0, inbound=True)
    ctx = CallContext(**{**ctx.__dict__, "candidates": people})
    return Dialog(ctx, flow, CATALOG)


def said(actions) -> str:
    d = [a for a in actions if isinstance(a, Play)]
    return " | ".join(f"{p.prompt_id}:{p.variables}" for p in d)


def test_two_people_on_one_number_choose_then_verify_and_the_other_debt_is_never_spoken():
    dialog = caller(ANA, BRUNO)
    out = dialog.start(CallAnswered())
    assert dialog.state == "inbound_choose_person"
    out += dialog.handle(Digits("2"))
    assert IdentifyCaller(2) in out and dialog.state == "inbound_check_birth_year"
    out += dialog.handle(Digits("1990#"))
    assert CallerVerified() in out and dialog.state == "inbound_menu"
    text = said(out)
    assert "Banco Verde" in text and "Loja Azul" not in text
    assert "987" in text or "novecentos" in text
    assert "cento e cinquenta" not in text


def test_unknown_number_identifies_by_reference_and_promises():
    dialog = caller()
    dialog.start(CallAnswered())
    assert dialog.state == "inbound_ask_reference"
    out = dialog.handle(Digits("1001#"))
    assert LookUpCaller("1001") in out
    out = dialog.handle(CallerLookup((ANA,)))
    assert IdentifyCaller(1) in out and dialog.state == "inbound_confirm_name"
    dialog.handle(Digits("1"))
    out = dialog.handle(Digits("1980#"))
    assert dialog.state == "inbound_menu" and "Loja Azul" in said(out)
    day = base.TODAY + dt.timedelta(days=7)
    dialog.handle(Digits(f"{day:%d%m}#"))
    out = dialog.handle(Digits("1"))
    assert any(isinstance(a, RecordPromise) for a in out)


def test_a_reference_nobody_has_is_asked_again_then_a_person():
    dialog = caller()
    dialog.start(CallAnswered())
    for _ in range(2):
        dialog.handle(Digits("999#"))
        dialog.handle(CallerLookup(()))
        assert dialog.state == "inbound_ask_reference"
    dialog.handle(Digits("999#"))
    out = dialog.handle(CallerLookup(()))
    assert dialog.state == "inbound_to_agent" and dialog.finished
    assert "Loja" not in said(out)


def test_a_wrong_factor_three_times_says_nothing_of_the_debt():
    dialog = caller(ANA)
    out = dialog.start(CallAnswered())
    out += dialog.handle(Digits("1"))
    for year in ("1970#", "1971#", "1972#"):
        out += dialog.handle(Digits(year))
    assert dialog.state == "inbound_unverified" and dialog.finished
    assert "Loja Azul" not in said(out) and CallerVerified() not in out


def test_payment_details_by_sms_from_the_menu():
    dialog = caller(CallContext(**{**ANA.__dict__, "sms_possible": True}))
    dialog.start(CallAnswered())
    dialog.handle(Digits("1"))
    dialog.handle(Digits("1980#"))
    out = dialog.handle(Digits("6"))
    assert SendPaymentDetails() in out and dialog.state == "inbound_anything_else"


def test_payment_details_to_a_number_that_cannot_be_texted_go_to_a_person():
    """Seen: the menu's 6 said "sent by SMS" to a landline caller; nothing was sent."""
    dialog = caller(ANA)  # sms_possible is False: a landline, or SMS refused
    dialog.start(CallAnswered())
    dialog.handle(Digits("1"))
    dialog.handle(Digits("1980#"))
    out = dialog.handle(Digits("6"))
    assert SendPaymentDetails() not in out
    assert "inbound_payment_details_sent" not in said(out)
    assert dialog.state == "to_agent_payment_details"
