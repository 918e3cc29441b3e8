"""The boleto's linha digitável: check digits, normalising, and what it carries."""

from __future__ import annotations

import datetime as dt

import pytest

from ivr.messaging.boleto import BoletoInvalid, format_line, parse_line

# A Banco do Brasil line used as the valid example by public boleto validators
# (brazilian-utils' boleto tests among them): R$ 1,00, factor 3737.
PUBLISHED = "00190500954014481606906809350314337370000000100"


def _mod10(digits: str) -> int:
    total = 0
    for i, ch in enumerate(digits[::-1]):
        p = int(ch) * (2 - i % 2)
        total += sum(map(int, str(p)))
    return -total % 10


def _mod11(digits: str) -> int:
    weights = [2, 3, 4, 5, 6, 7, 8, 9]
    total = sum(int(ch) * weights[i % 8] for i, ch in enumerate(digits[::-1]))
    dv = 11 - total % 11
    return 1 if dv > 9 else dv


def _line_from(bank_currency: str, factor: str, amount: str, free: str) -> str:
    """A linha digitável built here, from the FEBRABAN layout, for a chosen barcode."""
    assert len(bank_currency) == 4 and len(factor) == 4 and len(amount) == 10 and len(free) == 25
    general = _mod11(bank_currency + factor + amount + free)
    f1 = bank_currency + free[:5]
    f2 = free[5:15]
    f3 = free[15:25]
    return f"{f1}{_mod10(f1)}{f2}{_mod10(f2)}{f3}{_mod10(f3)}{general}{factor}{amount}"


def test_the_published_line() -> None:
    line = parse_line("00190.50095 40144.816069 06809.350314 3 37370000000100")
    assert line.digits == PUBLISHED
    assert line.bank == "001"
    assert line.amount_cents == 100
    assert line.due_factor == 3737
    assert line.barcode == "00193373700000001000500940144816060680935031"
    assert line.formatted == "00190.50095 40144.816069 06809.350314 3 37370000000100"


def test_a_constructed_line() -> None:
    digits = _line_from("3419", "1234", "0000105000", "1090000012345678901234560")
    line = parse_line(digits)
    assert line.amount_cents == 105_000 and line.due_factor == 1234 and line.bank == "341"
    # Factor 1234 of the cycle begun 2025-02-22 (factor 1000) is 2025-10-14.
    assert line.due_date(dt.date(2025, 10, 1)) == dt.date(2025, 10, 14)
    assert format_line(digits).count(" ") == 4


@pytest.mark.parametrize(
    "position,group", [(3, "group 1"), (9, "group 1"), (15, "group 2"), (31, "group 3")]
)
def test_a_mistyped_digit_is_caught(position: int, group: str) -> None:
    wrong = (
        PUBLISHED[:position] + str((int(PUBLISHED[position]) + 1) % 10) + PUBLISHED[position + 1 :]
    )
    with pytest.raises(BoletoInvalid, match=group):
        parse_line(wrong)


def test_a_wrong_amount_breaks_the_general_check_digit() -> None:
    wrong = PUBLISHED[:-3] + "900"
    with pytest.raises(BoletoInvalid, match="general check digit"):
        parse_line(wrong)


def test_general_digit_zero_ten_eleven_becomes_one() -> None:
    # Hunt a free field whose sum leaves remainder 0 or 1 (11 - r in 10, 11).
    for n in range(200):
        free = f"{n:025d}"
        body = "2379" + "1000" + "0000000100" + free
        total = sum(int(ch) * (2 + i % 8) for i, ch in enumerate(body[::-1]))
        if total % 11 in (0, 1):
            line = parse_line(_line_from("2379", "1000", "0000000100", free))
            assert line.digits[32] == "1"
            return
    raise AssertionError("no free field with remainder 0 or 1 found")


@pytest.mark.parametrize(
    "raw,reason",
    [
        ("816400000000011000000477261620340777561600000001", "arrecadação"),
        ("00193373700000001000500940144816060680935031", "barcode"),
        (PUBLISHED[:-1], "46 digits"),
        (PUBLISHED.replace("0019", "0019-"), "only have digits"),
        ("", "empty"),
    ],
)
def test_other_things_are_refused(raw: str, reason: str) -> None:
    with pytest.raises(BoletoInvalid, match=reason):
        parse_line(raw)
