"""Payment plans, ranges of days and the business-day and holiday dates, as
properties and result shapes (the utterance tables hold the phrasings)."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.dialog import nlu_dates as cal
from ivr.dialog.nlu import PlannedPayment, nlu_cli, understand
from ivr.dialog.nlu_multipart import after
from scheduler.windows import is_business_day, nth_business_day

TODAY = dt.date(2026, 11, 23)  # Monday
days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 1))


def test_plan_and_range_in_the_json() -> None:
    plan = json.loads(nlu_cli("pt-BR", "2026-11-23", "cem reais agora e o resto dia cinco"))
    assert plan["intent"] == "installments"
    assert plan["installments"] == 2
    assert plan["installment_plan"] == [
        {"date": "2026-11-23", "amount_cents": 10000, "fraction": None},
        {"date": "2026-12-05", "amount_cents": None, "fraction": None},
    ]
    span = json.loads(nlu_cli("en-US", "2026-11-23", "between the 10th and the 15th"))
    assert (span["date"], span["date_end"]) == ("2026-12-10", "2026-12-15")
    assert span["installment_plan"] == []


def test_the_rest_of_an_amount_is_left_open() -> None:
    result = understand("cem reais agora e o resto dia cinco", "pt-BR", TODAY)
    assert result.installment_plan[-1] == PlannedPayment(dt.date(2026, 12, 5))
    assert result.installment_plan[-1].is_rest


def test_alternatives_are_never_a_plan() -> None:
    result = understand("metade sexta ou metade segunda", "pt-BR", TODAY)
    assert result.installment_plan == ()


def test_a_portion_without_its_day_is_no_instalment() -> None:
    result = understand("cem reais e o resto dia vinte", "pt-BR", TODAY)
    assert result.intent == "promise"
    assert result.installment_plan == ()


def test_plan_days_never_go_backwards() -> None:
    result = understand("metade dia vinte e cinco e metade dia dez", "pt-BR", TODAY)
    first, second = result.installment_plan
    assert (first.date, second.date) == (dt.date(2026, 11, 25), dt.date(2026, 12, 10))


@settings(deadline=None)
@given(days, days)
def test_after_is_never_earlier(earlier: dt.date, later: dt.date) -> None:
    moved = after(earlier, later)
    assert moved >= earlier or moved == later
    if later >= earlier:
        assert moved == later


@settings(deadline=None)
@given(days)
def test_the_other_friday_is_a_week_after_friday(today: dt.date) -> None:
    friday = understand("sexta", "pt-BR", today).date
    other = understand("na outra sexta", "pt-BR", today).date
    english = understand("the friday after next", "en-US", today).date
    assert friday is not None
    assert other == english == friday + dt.timedelta(days=7)


@settings(deadline=None, max_examples=60)
@given(days)
def test_fifth_business_day_is_a_business_day_from_today(today: dt.date) -> None:
    day = understand("quinto dia útil", "pt-BR", today).date
    assert day is not None and day >= today
    assert is_business_day(day, "BR")
    before = [
        dt.date(day.year, day.month, d)
        for d in range(1, day.day)
        if is_business_day(dt.date(day.year, day.month, d), "BR")
    ]
    assert len(before) == 4


def test_nth_business_day_counts_holidays() -> None:
    # November 2026: the 2nd (Finados) and the 20th (Consciência Negra) are holidays.
    assert nth_business_day(2026, 11, 1, "BR") == dt.date(2026, 11, 3)
    assert nth_business_day(2026, 11, 5, "BR") == dt.date(2026, 11, 9)
    assert nth_business_day(2026, 11, -1, "BR") == dt.date(2026, 11, 30)
    assert nth_business_day(2026, 11, 25, "BR") is None
    assert nth_business_day(2026, 11, 0, "BR") is None


@settings(deadline=None)
@given(days)
def test_after_the_holidays_is_ahead_and_right_after_them(today: dt.date) -> None:
    christmas = cal.day_after_date(today, 12, 25)
    assert (christmas.month, christmas.day) == (12, 26) and christmas > today
    carnival = cal.after_carnival(today)
    assert carnival.weekday() == 3 and carnival > today
    thanksgiving = cal.after_thanksgiving(today)
    assert thanksgiving.month == 11 and thanksgiving.weekday() == 4 and thanksgiving > today
