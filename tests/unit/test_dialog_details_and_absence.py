"""The flow's first branches for "send me the bill", "he passed away" and "he is
out": each is routed somewhere kind, and the two said by someone else reveal
nothing about the debt."""

from __future__ import annotations

import datetime as dt

import pytest

from ivr.dialog.events import (
    CallAnswered,
    MarkWrongNumber,
    RecordOutcome,
    ScheduleCallback,
    Speech,
    TransferToAgent,
)
from tests.unit import test_dialog as base
from tests.unit.test_dialog import (
    TODAY,
    assert_goodbye_then_end,
    assert_no_disclosure,
    identified,
    of,
    prompt_ids,
)

# The fixtures of the flow's main tests.
flow = base.flow
catalogs = base.catalogs
make = base.make


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("pt-BR", "me manda o boleto"),
        ("pt-BR", "qual é a chave pix"),
        ("en-US", "text me the link"),
    ],
)
def test_payment_details_go_to_a_person_who_sends_them(make, locale, said):
    d = make(locale)
    identified(d)
    actions = d.handle(Speech(said))
    assert prompt_ids(actions) == ["transfer_payment_details"]
    assert of(actions, TransferToAgent) == [TransferToAgent("asked_for_agent")]
    assert d.outcome == "agent"


@pytest.mark.parametrize(
    ("locale", "said"), [("pt-BR", "ele faleceu"), ("en-US", "he passed away")]
)
def test_deceased_gets_condolences_and_nothing_about_the_debt(make, locale, said):
    d = make(locale)
    start = d.start(CallAnswered())
    actions = d.handle(Speech(said))
    assert prompt_ids(actions) == ["deceased_condolences"]
    assert RecordOutcome("wrong_party") in actions
    assert MarkWrongNumber() not in actions
    assert_goodbye_then_end(actions)
    assert_no_disclosure(d, start + actions)


@pytest.mark.parametrize(
    ("locale", "said"), [("pt-BR", "ele não está"), ("en-US", "she's at work")]
)
def test_not_available_calls_again_later_and_says_nothing_about_the_debt(make, locale, said):
    d = make(locale)
    start = d.start(CallAnswered())
    actions = d.handle(Speech(said))
    assert prompt_ids(actions) == ["not_available_goodbye"]
    assert of(actions, ScheduleCallback) == [ScheduleCallback(None)]
    assert RecordOutcome("no_contact") in actions
    assert_goodbye_then_end(actions)
    assert_no_disclosure(d, start + actions)
    assert d.outcome == "no_contact"


def test_not_available_with_a_time_calls_again_then(make):
    d = make()
    d.start(CallAnswered())
    actions = d.handle(Speech("ele só chega amanhã de noite"))
    tomorrow = TODAY + dt.timedelta(days=1)
    assert of(actions, ScheduleCallback) == [
        ScheduleCallback(dt.datetime.combine(tomorrow, dt.time(19, 0)))
    ]
