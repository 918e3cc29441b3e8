"""How the emulated carrier reads a phone number, for calls as for messages.

Twilio refuses a ``To`` that is not a valid E.164 number and tells the
application each number's country (``FromCountry``, ``ToCountry``, and the
country a Messaging Service matches senders by). The service has its own,
stricter reading of numbers (:mod:`ivr.number_facts`); this one is the
carrier's, so the sandbox answers as Twilio would even where the two differ.
"""

from __future__ import annotations

import phonenumbers


def parse_number(number: str) -> phonenumbers.PhoneNumber | None:
    """The number if it is a valid E.164 phone number, else None."""
    if not number.startswith("+"):
        return None
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    if phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) != number:
        return None
    return parsed


def country_of(number: str) -> str:
    """The ISO country of ``number`` as Twilio's ``FromCountry`` / ``ToCountry``
    give it, for calls as for messages ("" when it cannot be told)."""
    parsed = parse_number(number)
    if parsed is not None:
        return phonenumbers.region_code_for_number(parsed) or ""
    try:  # a well-formed number outside the numbering plan: its country code says enough
        code = phonenumbers.parse(number).country_code
    except phonenumbers.NumberParseException:
        return ""
    region = phonenumbers.region_code_for_country_code(code or 0)
    return "" if region == phonenumbers.UNKNOWN_REGION else region
