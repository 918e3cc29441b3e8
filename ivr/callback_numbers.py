"""Which number a debtor is told to call back: one of their own country.

A debtor in the US who hears a Brazilian number cannot (or will not) call
it, and a number read in a foreign format is hard to note down. So each
country the service calls has its own callback number (``IVR_CALLBACK_NUMBER_BR``,
``IVR_CALLBACK_NUMBER_US``), and a call picks the one of the debtor's country:

1. the campaign's callback number, when it is a number of that country
   (a campaign may have its own line);
2. else the setting of that country;
3. else ``IVR_TWILIO_FROM_NUMBER`` (the number the calls come from, which
   was the only callback number before there was one per country), when it
   is a number of that country;
4. else none: the prompts then say "the number this call came from"
   (:func:`ivr.dialog.speakable.say_phone`), never a foreign number, and the
   service warns at start-up which setting is missing.
"""

from __future__ import annotations

from collections.abc import Mapping

import phonenumbers

#: The countries the service calls (a debtor's country comes from their locale
#: at import), each with its own callback number setting.
CALLBACK_COUNTRIES: tuple[str, ...] = ("BR", "US")
_EXAMPLES = {"BR": "+551140001234", "US": "+18005550100"}


def setting_name(country: str) -> str:
    """The environment variable holding ``country``'s callback number."""
    return f"IVR_CALLBACK_NUMBER_{country}"


def country_of(number: str | None) -> str | None:
    """The country (ISO 3166 alpha-2) of an E.164 number; None if it is not a valid one."""
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.region_code_for_number(parsed)


def check_callback_number(value: str, country: str) -> str:
    """``value`` as E.164 if it is a valid number of ``country``; ValueError saying why not."""
    example = _EXAMPLES.get(country, "+<country code><number>")
    try:
        parsed = phonenumbers.parse(value.strip())
    except phonenumbers.NumberParseException:
        raise ValueError(f"must be an E.164 number such as {example}") from None
    if not phonenumbers.is_valid_number(parsed) or parsed.extension:
        raise ValueError(f"{value!r} is not a valid phone number (E.164, e.g. {example})")
    where = phonenumbers.region_code_for_number(parsed)
    if where != country:
        raise ValueError(f"{value!r} is a number of {where}, not of {country} (e.g. {example})")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def configured_numbers(
    per_country: Mapping[str, str | None], from_number: str | None
) -> dict[str, str]:
    """Country -> callback number from the settings: each country's own setting,
    else the calls' from-number for its own country."""
    numbers = {country: number for country, number in per_country.items() if number}
    home = country_of(from_number)
    if from_number and home is not None and home not in numbers:
        numbers[home] = phonenumbers.format_number(
            phonenumbers.parse(from_number), phonenumbers.PhoneNumberFormat.E164
        )
    return numbers


def callback_number_for(
    country: str, campaign_number: str | None, configured: Mapping[str, str]
) -> str:
    """The number a debtor of ``country`` is told to call; "" when there is none."""
    if campaign_number and country_of(campaign_number) == country:
        return campaign_number
    return configured.get(country, "")
