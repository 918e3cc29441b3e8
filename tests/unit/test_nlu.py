"""NLU behaviour beyond the utterance tables: result shape, keypad, CLI output,
calendar rules (as properties), and phrase sequences as Vosk emits them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.dialog import nlu_dates as cal
from ivr.dialog.grammars import UNK, load_grammar
from ivr.dialog.nlu import (
    INTENTS,
    NluResult,
    nlu_cli,
    parse_keypad_amount,
    parse_keypad_date,
    understand,
)

TODAY = dt.date(2026, 11, 23)  # Monday
days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 1))

# ------------------------------------------------------------- result shape


def test_result_is_frozen_and_serializes_iso() -> None:
    result = understand("me liga amanhã às três da tarde", "pt-BR", TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.intent = "no"  # type: ignore[misc]
    data = result.to_json()
    assert data["intent"] == "callback"
    assert data["date"] == "2026-11-24"
    assert data["time"] == "15:00"
    assert data["amount_cents"] is None
    assert json.loads(json.dumps(data)) == data


def test_amount_is_integer_cents() -> None:
    data = understand("cento e vinte reais e cinquenta centavos", "pt-BR", TODAY).to_json()
    assert data["amount_cents"] == 12050 and isinstance(data["amount_cents"], int)


@pytest.mark.parametrize("text", ["", "   ", "[unk]", "[unk] [unk]", ",", "?"])
def test_nothing_heard_is_unknown(text: str) -> None:
    result = understand(text, "pt-BR", TODAY)
    assert result.intent == "unknown"
    assert result.confidence == 0.0


def test_unk_around_words_is_ignored() -> None:
    assert understand("[unk] sexta [unk]", "pt-BR", TODAY).date == dt.date(2026, 11, 27)


def test_every_intent_is_in_the_vocabulary() -> None:
    for text in ["sim", "não", "sexta", "xyz", "pare de ligar", "já paguei"]:
        assert understand(text, "pt-BR", TODAY).intent in INTENTS


def test_unsupported_locale_is_refused() -> None:
    with pytest.raises(ValueError, match="locale"):
        understand("sim", "fr-FR", TODAY)


@pytest.mark.parametrize("locale", ["pt-BR", "pt_BR", "pt"])
def test_locale_spellings(locale: str) -> None:
    assert understand("sim", locale, TODAY).intent == "yes"


def test_accents_optional_when_typed() -> None:
    with_accents = understand("amanhã às três da tarde", "pt-BR", TODAY)
    without = understand("amanha as tres da tarde", "pt-BR", TODAY)
    assert (with_accents.date, with_accents.time) == (without.date, without.time)


def test_confidence_is_lower_for_guesses() -> None:
    explicit = understand("dia vinte e oito", "pt-BR", TODAY, context="ask_payment_date")
    bare = understand("vinte e oito", "pt-BR", TODAY, context="ask_payment_date")
    assert explicit.date == bare.date == dt.date(2026, 11, 28)
    assert 0 < bare.confidence < explicit.confidence <= 1


def test_slots_only_with_intents_that_use_them() -> None:
    result = understand("já paguei tudo dia cinco", "pt-BR", TODAY)
    assert result.intent == "already_paid"
    assert (result.date, result.fraction, result.amount_cents) == (None, None, None)


def test_context_turns_a_date_into_a_callback() -> None:
    as_promise = understand("sexta", "pt-BR", TODAY, context="ask_payment_date")
    as_callback = understand("sexta", "pt-BR", TODAY, context="ask_callback_time")
    assert (as_promise.intent, as_callback.intent) == ("promise", "callback")
    assert as_promise.date == as_callback.date == dt.date(2026, 11, 27)


def test_stop_calling_wins_over_everything_else() -> None:
    result = understand("não me ligue mais, já paguei", "pt-BR", TODAY)
    assert result.intent == "stop_calling"


# ------------------------------------------------------------- sequences of grammar phrases


def _slots(result: NluResult) -> tuple[object, ...]:
    return (result.date, result.amount_cents, result.fraction)


@pytest.mark.parametrize(("locale", "lead"), [("pt-BR", "posso pagar"), ("en-US", "i can pay")])
def test_lead_in_phrase_keeps_the_slots(locale: str, lead: str) -> None:
    """Vosk emits "posso pagar" + "dia cinco" as one text: same promise."""
    checked = 0
    for phrase in load_grammar(locale, "ask_payment_date"):
        if phrase == UNK:
            continue
        alone = understand(phrase, locale, TODAY, context="ask_payment_date")
        if alone.intent != "promise" or phrase == lead:
            continue
        combined = understand(f"{lead} {phrase}", locale, TODAY, context="ask_payment_date")
        assert combined.intent == "promise", phrase
        assert _slots(combined) == _slots(alone), phrase
        checked += 1
    assert checked > 40


def test_date_then_amount_sequence() -> None:
    result = understand("dia cinco quinhentos reais", "pt-BR", TODAY)
    assert (result.date, result.amount_cents) == (dt.date(2026, 12, 5), 50000)


def test_hour_then_daypart_sequence() -> None:
    result = understand("amanhã às oito da noite", "pt-BR", TODAY, context="ask_callback_time")
    assert (result.date, result.time) == (dt.date(2026, 11, 24), dt.time(20, 0))
    english = understand(
        "tomorrow at eight in the evening", "en-US", TODAY, context="ask_callback_time"
    )
    assert english.time == dt.time(20, 0)


# ------------------------------------------------------------- keypad


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("28", dt.date(2026, 11, 28)),
        ("5", dt.date(2026, 12, 5)),
        ("23", dt.date(2026, 12, 23)),  # today's day -> next month
        ("2811", dt.date(2026, 11, 28)),
        ("0501", dt.date(2027, 1, 5)),
        ("1011", dt.date(2027, 11, 10)),  # already past this year
        ("28112026", dt.date(2026, 11, 28)),
        ("281126", dt.date(2026, 11, 28)),
        ("28#", dt.date(2026, 11, 28)),
        ("3002", None),
        ("32", None),
        ("0", None),
        ("", None),
        ("12a", None),
        ("123", None),
        ("31022027", None),
    ],
)
def test_parse_keypad_date(digits: str, expected: dt.date | None) -> None:
    assert parse_keypad_date(digits, TODAY) == expected


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("150", 15000),
        ("150*50", 15050),
        ("150*5", 15050),
        ("150#", 15000),
        ("1*05", 105),
        ("*50", 50),
        ("0", None),
        ("", None),
        ("150*", None),
        ("150*123", None),
        ("1*2*3", None),
        ("abc", None),
    ],
)
def test_parse_keypad_amount(digits: str, expected: int | None) -> None:
    assert parse_keypad_amount(digits) == expected


# ------------------------------------------------------------- CLI support


def test_nlu_cli_prints_json_with_slots() -> None:
    out = nlu_cli("pt-BR", "2026-11-23", "posso pagar duzentos e cinquenta reais no dia cinco")
    data = json.loads(out)
    assert data["intent"] == "promise"
    assert data["date"] == "2026-12-05"
    assert data["amount_cents"] == 25000
    assert data["locale"] == "pt-BR"
    assert data["today"] == "2026-11-23"


def test_nlu_cli_keeps_real_characters() -> None:
    out = nlu_cli("pt-BR", "2026-11-23", "amanhã")
    assert "amanhã" in out and "\\u" not in out


def test_nlu_cli_rejects_bad_day() -> None:
    with pytest.raises(ValueError):
        nlu_cli("pt-BR", "23/11/2026", "sim")


# ------------------------------------------------------------- calendar properties


@settings(deadline=None)
@given(days, st.integers(min_value=0, max_value=6))
def test_next_weekday_is_strictly_future_within_a_week(today: dt.date, weekday: int) -> None:
    result = cal.next_weekday(today, weekday)
    assert result.weekday() == weekday
    assert 1 <= (result - today).days <= 7


@settings(deadline=None)
@given(days, st.integers(min_value=1, max_value=31))
def test_next_day_of_month_is_the_first_from_tomorrow(today: dt.date, day: int) -> None:
    result = cal.next_day_of_month(today, day)
    assert result is not None
    assert result.day == day
    assert result > today
    # no earlier date after today has that day of the month
    probe = today + dt.timedelta(days=1)
    while probe < result:
        assert probe.day != day
        probe += dt.timedelta(days=1)


@settings(deadline=None)
@given(days)
def test_end_of_month_is_a_last_day_and_never_today(today: dt.date) -> None:
    result = cal.end_of_month(today)
    assert (result + dt.timedelta(days=1)).day == 1
    assert result > today
    assert (result.year, result.month) in {
        (today.year, today.month),
        (cal.add_months(today, 1).year, cal.add_months(today, 1).month),
    }


@settings(deadline=None)
@given(days)
def test_next_week_and_next_month(today: dt.date) -> None:
    monday = cal.next_week_monday(today)
    assert monday.weekday() == 0 and 1 <= (monday - today).days <= 7
    month = cal.next_month(today)
    assert month.day == cal.SALARY_DAY
    assert (month.year * 12 + month.month) - (today.year * 12 + today.month) == 1


@settings(deadline=None)
@given(days, st.integers(min_value=0, max_value=400))
def test_daqui_a_n_dias(today: dt.date, n: int) -> None:
    words = f"daqui a {n} dias"
    result = understand(words, "pt-BR", today)
    if n >= 1:
        assert result.date == today + dt.timedelta(days=n)


_WORDS = st.sampled_from(
    [
        "não",
        "sim",
        "dia",
        "de",
        "do",
        "mês",
        "que",
        "vem",
        "sexta",
        "amanhã",
        "às",
        "e",
        "meia",
        "reais",
        "centavos",
        "99999999",
        "0",
        "31",
        "32",
        "da",
        "tarde",
        "noite",
        "daqui",
        "a",
        "dias",
        "semanas",
        "metade",
        "tudo",
        "r$",
        "$",
        ",",
        "1.500,00",
        "28/02",
        "31/02",
        "99/99",
        "next",
        "the",
        "31st",
        "of",
        "february",
        "in",
        "at",
        "pm",
        "friday",
        "no",
        "not",
        "half",
        "dollars",
    ]
)


@settings(deadline=None)
@given(st.lists(_WORDS, max_size=12), st.sampled_from(["pt-BR", "en-US"]), days)
def test_never_raises_on_word_salad(words: list[str], locale: str, today: dt.date) -> None:
    result = understand(" ".join(words), locale, today)
    assert result.intent in INTENTS
    if result.amount_cents is not None:
        assert result.amount_cents > 0
