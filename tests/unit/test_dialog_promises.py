"""Promises that are real: a day the banks are closed is read back with its
weekday and kept or moved to the next business day as the campaign says, and
a split proposal ("metade agora e o resto dia 20") becomes two dated amounts."""

from __future__ import annotations

import datetime as dt

import pytest

from ivr.dialog.events import (
    CallAnswered,
    Digits,
    RecordOutcome,
    RecordPlan,
    RecordPromise,
    Silence,
    Speech,
)
from ivr.vocab.debts import ClosedDayPromise
from tests.unit import test_dialog as base
from tests.unit.test_dialog import AMOUNT, TODAY, identified, of, prompt_ids, texts

flow = base.flow
catalogs = base.catalogs
make = base.make

SATURDAY = dt.date(2025, 11, 29)
MONDAY = dt.date(2025, 12, 1)


def test_a_saturday_moves_to_monday_and_the_caller_hears_why(make):
    d = make()
    identified(d)
    actions = d.handle(Speech("posso pagar sábado"))
    assert d.state == "confirm_promise"
    assert prompt_ids(actions) == ["promise_moved", "confirm_promise"]
    moved, confirm = texts(d, actions)
    assert "sábado, dia 29 de novembro" in moved
    assert "segunda-feira, dia primeiro de dezembro" in moved
    assert "segunda-feira, dia primeiro de dezembro" in confirm
    actions = d.handle(Speech("sim"))
    assert of(actions, RecordPromise) == [RecordPromise(MONDAY, AMOUNT)]


def test_a_holiday_moves_to_the_next_business_day(make):
    # Christmas 2025 is a Thursday: the payment moves to Friday the 26th.
    d = make(today=dt.date(2025, 12, 1))
    identified(d)
    actions = d.handle(Speech("dia vinte e cinco"))
    assert prompt_ids(actions) == ["promise_moved", "confirm_promise"]
    assert "quinta-feira, dia 25 de dezembro" in texts(d, actions)[0]
    actions = d.handle(Digits("1"))
    assert of(actions, RecordPromise) == [RecordPromise(dt.date(2025, 12, 26), AMOUNT)]


def test_a_us_holiday_is_the_us_calendar(make):
    # Thanksgiving 2025, Thursday the 27th: a business day in Brazil, not in the US.
    d = make("en-US")
    identified(d)
    actions = d.handle(Speech("thursday"))
    assert prompt_ids(actions) == ["promise_moved", "confirm_promise"]
    moved = texts(d, actions)[0]
    assert "Thursday, November 27th" in moved and "Friday, November 28th" in moved
    assert d.answers.promise_date == dt.date(2025, 11, 28)


def test_a_campaign_that_accepts_closed_days_keeps_the_day_and_says_its_weekday(make):
    d = make(promise_on_closed_day=ClosedDayPromise.ACCEPT)
    identified(d)
    actions = d.handle(Speech("posso pagar sábado"))
    assert prompt_ids(actions) == ["confirm_promise"]
    assert "sábado, dia 29 de novembro" in texts(d, actions)[0]
    actions = d.handle(Speech("sim"))
    assert of(actions, RecordPromise) == [RecordPromise(SATURDAY, AMOUNT)]


def test_a_keyed_saturday_moves_too(make):
    d = make()
    d.start(CallAnswered())
    d.handle(Digits("1"))
    actions = d.handle(Digits("2911#"))
    assert prompt_ids(actions) == ["promise_moved", "confirm_promise"]
    assert d.answers.promise_date == MONDAY


def test_a_business_day_is_not_moved(make):
    d = make()
    identified(d)
    actions = d.handle(Speech("posso pagar sexta"))
    assert prompt_ids(actions) == ["confirm_promise"]


# ---------------------------------------------------------------- split proposals


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("pt-BR", "metade hoje e metade dia dezenove"),
        ("en-US", "half now and the rest on the 19th"),
    ],
)
def test_a_split_is_confirmed_and_stored_as_two_dated_amounts(make, locale, said):
    d = make(locale)
    identified(d)
    actions = d.handle(Speech(said))
    assert d.state == "confirm_split", actions
    assert prompt_ids(actions) == ["confirm_split"]
    (confirm,) = texts(d, actions)
    half = "setenta e cinco reais e quarenta e cinco centavos"
    if locale == "pt-BR":
        assert "duas parcelas" in confirm
        assert f"{half} para hoje" in confirm
        assert f"{half} para sexta-feira, dia 19 de dezembro" in confirm
    else:
        assert "two payments" in confirm
        assert "seventy-five dollars and forty-five cents today" in confirm
        assert "Friday, December 19th" in confirm
    actions = d.handle(Digits("1"))
    # One plan, its parts the instalments (not unrelated promises).
    assert not of(actions, RecordPromise)
    assert of(actions, RecordPlan) == [
        RecordPlan(((TODAY, AMOUNT // 2), (dt.date(2025, 12, 19), AMOUNT - AMOUNT // 2)))
    ]
    assert RecordOutcome("promise") in actions
    assert prompt_ids(actions) == ["split_thanks"]
    assert d.finished and d.outcome == "promise"


def test_the_rest_is_what_the_first_part_leaves(make):
    d = make()
    identified(d)
    d.handle(Speech("cem reais agora e o resto dia cinco"))
    assert d.state == "confirm_split"
    actions = d.handle(Speech("sim"))
    assert of(actions, RecordPlan) == [
        RecordPlan(((TODAY, 10000), (dt.date(2025, 12, 5), AMOUNT - 10000)))
    ]


def test_a_split_day_on_a_weekend_moves_and_is_said(make):
    # The 20th of December 2025 is a Saturday: that part moves to Monday the 22nd.
    d = make()
    identified(d)
    actions = d.handle(Speech("metade agora e o resto dia vinte"))
    assert prompt_ids(actions) == ["promise_moved", "confirm_split"]
    actions = d.handle(Speech("sim"))
    (plan,) = of(actions, RecordPlan)
    assert [day for day, _ in plan.instalments] == [TODAY, dt.date(2025, 12, 22)]


def test_a_split_can_be_corrected(make):
    d = make()
    identified(d)
    d.handle(Speech("metade hoje e metade dia dezenove"))
    d.handle(Speech("não"))
    assert d.state == "promise_adjust"
    d.handle(Speech("posso pagar sexta"))
    actions = d.handle(Speech("sim"))
    assert of(actions, RecordPromise) == [RecordPromise(dt.date(2025, 11, 28), AMOUNT)]


def test_a_split_beyond_the_latest_day_is_negotiated(make):
    d = make()
    identified(d)
    d.handle(Speech("metade agora e metade dia vinte de fevereiro"))
    assert d.state == "date_too_far"


# ---------------------------------------------------------------- the campaign's plan limits


def test_more_instalments_than_the_campaign_allows_are_declined_kindly(make):
    d = make(max_instalments=2)
    identified(d)
    actions = d.handle(Speech("cinquenta reais hoje, cinquenta dia cinco e o resto dia dez"))
    assert d.state == "plan_over_limits", actions
    assert prompt_ids(actions) == ["plan_over_limits"]
    (said,) = texts(d, actions)
    assert "até duas parcelas" in said and "cento e oitenta dias" in said, said
    assert "atendente" in said or "tecle 0" in said  # a person is offered
    assert not of(actions, RecordPlan) and not of(actions, RecordPromise)
    # A shorter plan is accepted from there.
    actions = d.handle(Speech("metade hoje e metade dia dezenove"))
    assert d.state == "confirm_split", actions
    (plan,) = of(d.handle(Speech("sim")), RecordPlan)
    assert len(plan.instalments) == 2


def test_a_count_beyond_the_limit_offers_a_person(make):
    d = make("en-US", max_instalments=6)
    identified(d)
    actions = d.handle(Speech("can I pay in 12 payments"))
    assert d.state == "plan_over_limits", actions
    (said,) = texts(d, actions)
    assert "at most six payments" in said and "press 0" in said
    d.handle(Digits("0"))
    d.handle(Silence())  # 0 may begin a typed date: a pause makes it the key alone
    assert d.finished and d.outcome == "agent"


def test_a_plan_longer_than_the_campaign_allows_is_declined(make):
    d = make(max_plan_days=10)
    identified(d)
    actions = d.handle(Speech("metade hoje e metade dia dezenove"))  # 25 days apart
    assert d.state == "plan_over_limits", actions
    (said,) = texts(d, actions)
    assert "dez dias" in said
    # Within the limits the same split is confirmed as before.
    d = make(max_plan_days=30)
    identified(d)
    d.handle(Speech("metade hoje e metade dia dezenove"))
    assert d.state == "confirm_split"


def test_a_count_within_the_limit_goes_on_to_the_offer(make):
    d = make(max_instalments=6)
    identified(d)
    d.handle(Speech("quero pagar em três vezes"))
    assert d.state in ("offer_installments", "ask_installment_date")
