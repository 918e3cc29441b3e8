"""The callback number: one per country, checked at start-up, chosen by the
debtor's country and read the way that country writes it, in the call's language."""

from __future__ import annotations

import pytest

from ivr.callback_numbers import callback_number_for, check_callback_number, country_of
from ivr.config import SettingsError, load_settings
from ivr.dialog.speakable import say_phone

BR_LINE, US_LINE = "+551140001234", "+18005550100"


def test_settings_hold_a_number_per_country_in_e164() -> None:
    settings = load_settings(callback_number_br="+55 (11) 4000-1234", callback_number_us="")
    assert settings.callback_number_br == BR_LINE
    assert settings.callback_number_us is None
    assert settings.callback_numbers() == {"BR": BR_LINE}
    assert settings.missing_callback_numbers() == ["IVR_CALLBACK_NUMBER_US"]


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("callback_number_us", "800 555 0100", "E.164"),
        ("callback_number_us", "+1 555", "not a valid phone number"),
        ("callback_number_us", BR_LINE, "a number of BR, not of US"),
        ("callback_number_br", US_LINE, "a number of US, not of BR"),
    ],
)
def test_a_bad_number_stops_start_up_naming_the_variable(
    name: str, value: str, reason: str
) -> None:
    with pytest.raises(SettingsError, match=rf"IVR_{name.upper()}: .*{reason}"):
        load_settings(**{name: value})


def test_the_environment_sets_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVR_CALLBACK_NUMBER_US", "+1 800-555-0100")
    assert load_settings().callback_number_us == US_LINE
    monkeypatch.setenv("IVR_CALLBACK_NUMBER_US", "+551140001234")
    with pytest.raises(SettingsError, match="IVR_CALLBACK_NUMBER_US"):
        load_settings()


def test_the_from_number_is_the_default_of_its_own_country_only() -> None:
    """Before there was a number per country, the calls' from-number was the
    callback number: it still is, for its own country and no other."""
    only_from = load_settings(twilio_from_number="+55 11 3000-0000")
    assert only_from.callback_numbers() == {"BR": "+551130000000"}
    both = load_settings(twilio_from_number="+551130000000", callback_number_br=BR_LINE)
    assert both.callback_numbers() == {"BR": BR_LINE}, "the country's own setting wins"
    us_from = load_settings(twilio_from_number="+12125550148", callback_number_br=BR_LINE)
    assert us_from.callback_numbers() == {"BR": BR_LINE, "US": "+12125550148"}
    assert load_settings(twilio_from_number="not a number").callback_numbers() == {}


def test_the_debtor_country_chooses_the_number() -> None:
    configured = {"BR": BR_LINE, "US": US_LINE}
    assert callback_number_for("US", None, configured) == US_LINE
    assert callback_number_for("BR", "", configured) == BR_LINE
    # A campaign's own line is used for debtors of its country only.
    assert callback_number_for("BR", "+552140028922", configured) == "+552140028922"
    assert callback_number_for("US", "+552140028922", configured) == US_LINE
    # No number for the country: none at all, never a foreign one.
    assert callback_number_for("US", "+552140028922", {"BR": BR_LINE}) == ""


def test_country_of_a_number() -> None:
    assert country_of(BR_LINE) == "BR" and country_of(US_LINE) == "US"
    assert country_of("12") is None and country_of(None) is None and country_of("+1555") is None


def test_check_callback_number_gives_an_example_of_the_country() -> None:
    with pytest.raises(ValueError, match=r"\+551140001234"):
        check_callback_number("4000-1234", "BR")
    with pytest.raises(ValueError, match="not a valid"):
        check_callback_number("+1 800 555 0100 x12", "US")


@pytest.mark.parametrize(
    ("number", "locale", "spoken"),
    [
        # Brazil: (11) 4000-1234, digit groups in Portuguese; "meia" for six.
        (BR_LINE, "pt-BR", "um um, quatro zero zero zero, um dois três quatro"),
        ("+5511987654321", "pt-BR", "um um, nove oito sete meia cinco, quatro três dois um"),
        ("+558007654321", "pt-BR", "zero oito zero zero, sete meia cinco, quatro três dois um"),
        # US: (800) 555-0100 in English.
        (US_LINE, "en-US", "eight zero zero, five five five, zero one zero zero"),
        ("+12125550148", "en-US", "two one two, five five five, zero one four eight"),
        # The number's own country sets the groups, the call's locale the words.
        (US_LINE, "pt-BR", "oito zero zero, cinco cinco cinco, zero um zero zero"),
    ],
)
def test_a_number_is_read_in_its_country_format(number: str, locale: str, spoken: str) -> None:
    assert say_phone(number, locale) == spoken


def test_no_number_says_the_number_of_this_call_instead_of_a_foreign_one() -> None:
    assert say_phone("", "pt-BR") == "o número desta ligação"
    assert say_phone("", "en-US") == "the number this call came from"
