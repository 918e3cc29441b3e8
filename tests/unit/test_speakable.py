"""Amounts, dates and times as the debtor will hear them."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from text_to_num import text2num

from ivr.dialog.speakable import (
    say_amount,
    say_company,
    say_count,
    say_date,
    say_name,
    say_number,
    say_time,
)

TODAY = dt.date(2026, 11, 23)  # Monday


@pytest.mark.parametrize(
    ("cents", "pt", "en"),
    [
        (
            123450,
            "mil duzentos e trinta e quatro reais e cinquenta centavos",
            "one thousand two hundred thirty-four dollars and fifty cents",
        ),
        (100, "um real", "one dollar"),
        (200, "dois reais", "two dollars"),
        (101, "um real e um centavo", "one dollar and one cent"),
        (50, "cinquenta centavos", "fifty cents"),
        (1, "um centavo", "one cent"),
        (0, "zero reais", "zero dollars"),
        (10000, "cem reais", "one hundred dollars"),
        (10100, "cento e um reais", "one hundred one dollars"),
        (100000000, "um milhão de reais", "one million dollars"),
        (
            150000000,
            "um milhão e quinhentos mil reais",
            "one million five hundred thousand dollars",
        ),
    ],
)
def test_say_amount(cents: int, pt: str, en: str) -> None:
    assert say_amount(cents, "BRL", "pt-BR") == pt
    assert say_amount(cents, "USD", "en-US") == en


def test_currency_names_follow_the_currency() -> None:
    assert say_amount(200, "USD", "pt-BR") == "dois dólares"
    assert say_amount(100, "usd", "pt-BR") == "um dólar"
    assert say_amount(250, "BRL", "en-US") == "two reais and fifty centavos"


def test_say_amount_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        say_amount(-1, "BRL", "pt-BR")
    with pytest.raises(ValueError):
        say_amount(100, "XYZ", "pt-BR")


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=999_999))
def test_portuguese_amount_words_read_back_to_the_number(reais: int) -> None:
    """What we say can be parsed back to what we meant (no stray commas)."""
    spoken = say_amount(reais * 100, "BRL", "pt-BR")
    number_words = spoken.rsplit(" ", 1)[0]
    assert "," not in spoken
    assert text2num(number_words, "pt") == reais


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=999_999))
def test_english_amount_words_read_back_to_the_number(dollars: int) -> None:
    spoken = say_amount(dollars * 100, "USD", "en-US")
    assert "," not in spoken and " and " not in spoken
    assert text2num(spoken.rsplit(" ", 1)[0], "en") == dollars


def test_say_number() -> None:
    assert say_number(21, "pt-BR") == "vinte e um"
    assert say_number(1001, "en-US") == "one thousand one"


@pytest.mark.parametrize(
    ("day", "pt", "en"),
    [
        (dt.date(2026, 11, 28), "sábado, dia 28 de novembro", "Saturday, November 28th"),
        (dt.date(2026, 11, 27), "sexta-feira, dia 27 de novembro", "Friday, November 27th"),
        (
            dt.date(2026, 11, 24),
            "amanhã, terça-feira, dia 24 de novembro",
            "tomorrow, Tuesday, November 24th",
        ),
        (TODAY, "hoje, segunda-feira, dia 23 de novembro", "today, Monday, November 23rd"),
        (dt.date(2026, 12, 1), "terça-feira, dia primeiro de dezembro", "Tuesday, December 1st"),
        (dt.date(2026, 12, 22), "terça-feira, dia 22 de dezembro", "Tuesday, December 22nd"),
        (dt.date(2026, 12, 11), "sexta-feira, dia 11 de dezembro", "Friday, December 11th"),
        (
            dt.date(2027, 1, 5),
            "terça-feira, dia 5 de janeiro de 2027",
            "Tuesday, January 5th, 2027",
        ),
    ],
)
def test_say_date(day: dt.date, pt: str, en: str) -> None:
    assert say_date(day, "pt-BR", TODAY) == pt
    assert say_date(day, "en-US", TODAY) == en


def test_tomorrow_across_the_year() -> None:
    text = say_date(dt.date(2027, 1, 1), "pt-BR", dt.date(2026, 12, 31))
    assert text == "amanhã, sexta-feira, dia primeiro de janeiro de 2027"


@pytest.mark.parametrize(
    ("time", "pt", "en"),
    [
        (dt.time(15, 0), "às três da tarde", "at three in the afternoon"),
        (dt.time(9, 30), "às nove e meia da manhã", "at nine thirty in the morning"),
        (dt.time(12, 0), "ao meio-dia", "at noon"),
        (dt.time(13, 15), "à uma e quinze da tarde", "at one fifteen in the afternoon"),
        (dt.time(14, 0), "às duas da tarde", "at two in the afternoon"),
        (dt.time(20, 5), "às oito e cinco da noite", "at eight oh five in the evening"),
        (dt.time(0, 0), "à meia-noite", "at midnight"),
    ],
)
def test_say_time(time: dt.time, pt: str, en: str) -> None:
    assert say_time(time, "pt-BR") == pt
    assert say_time(time, "en-US") == en


@pytest.mark.parametrize(
    ("n", "pt", "en"),
    [
        (2, "duas", "two"),
        (3, "três", "three"),
        (21, "vinte e uma", "twenty-one"),
        (252, "duzentas e cinquenta e duas", "two hundred fifty-two"),
        (2000, "duas mil", "two thousand"),
        (2_000_002, "dois milhões e duas", "two million two"),
    ],
)
def test_say_count_of_feminine_things(n: int, pt: str, en: str) -> None:
    assert say_count(n, "pt-BR", feminine=True) == pt
    assert say_count(n, "en-US", feminine=True) == en
    assert say_count(n, "pt-BR") == say_number(n, "pt-BR")


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("MARIA", "Maria"),
        ("ANA-LUÍSA", "Ana-Luísa"),
        ("ZÉ", "Zé"),
        ("McDonald", "McDonald"),
        ("Bia", "Bia"),
    ],
)
def test_say_name_puts_capitals_in_ordinary_case(written: str, said: str) -> None:
    assert say_name(written) == said


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("Lojas Renner Ltda.", "Lojas Renner"),
        ("LOJAS RENNER LTDA", "LOJAS RENNER"),
        ("Itaú Unibanco S.A.", "Itaú Unibanco"),
        ("Casas Bahia S/A", "Casas Bahia"),
        ("X Comércio Ltda - ME", "X Comércio"),
        ("Acme Retail, Inc.", "Acme Retail"),
        ("ACME RETAIL LLC", "ACME RETAIL"),
        ("Banco Horizonte", "Banco Horizonte"),
        ("Loja Mega", "Loja Mega"),
        ("Ltda", "Ltda"),  # never down to nothing
    ],
)
def test_say_company_drops_the_legal_form(written: str, said: str) -> None:
    assert say_company(written) == said
