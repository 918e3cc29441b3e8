"""What the rule book needs to know about a phone number, derived once and stored.

Parsing a number with ``phonenumbers`` costs about 60 µs; the planner
evaluates hundreds of people per tick out of millions of distinct numbers,
so a per-process cache rarely hits and the parsing was a large share of the
tick. The two facts the rules read (the number's country, which binds the
calling hours, and the time zones its prefix spans) are therefore computed
when a phone row is written (the column defaults of ``ivr.store.models.Phone``,
and migration ``0028_planner`` for the rows that existed before) and stored on
the row as ``number_country`` and ``number_zones``.

The text forms are what the columns hold: ``""`` means "derived, none known",
``NULL`` means "not derived" (a row written by a path that bypasses the
defaults), in which case readers derive the facts here.

The importer parses every number of a file once (:func:`parse_number`, a
short cut for text already in E.164 form), asks its type once
(:func:`number_kind`) and takes the stored facts from those
(:func:`facts_of`) instead of parsing again: at a million rows each repeat
of the work costs seconds.
"""

from __future__ import annotations

import functools
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers import phonenumberutil as pn_util
from phonenumbers import timezone as pn_timezone

ZONES_MAX = 200  # the column's width; a prefix spans a handful of zones at most


@functools.lru_cache(maxsize=4096)
def valid_zone(name: str | None) -> bool:
    """An IANA zone name this machine's zone database knows."""
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# phonenumbers' own steps for a number that starts with "+" and a country
# code: what ``parse`` does once it has found the digits. Absent (another
# version of the library): every number takes the whole ``parse``.
_STEPS = (
    "_extract_country_code",
    "_maybe_strip_national_prefix_carrier_code",
    "_test_number_length",
    "_set_italian_leading_zeros_for_phone_number",
    "_number_type_helper",
    "_MIN_LENGTH_FOR_NSN",
    "_MAX_LENGTH_FOR_NSN",
)
_ZONE_STEPS = ("_UNKNOWN_TIME_ZONE_LIST", "_country_level_time_zones_for_number")
_FAST = all(hasattr(pn_util, name) for name in _STEPS) and all(
    hasattr(pn_timezone, name) for name in _ZONE_STEPS
)
_TOO_SHORT = (
    pn_util.ValidationResult.TOO_SHORT,
    pn_util.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    pn_util.ValidationResult.INVALID_LENGTH,
)


def parse_number(text: str, region: str | None = None) -> phonenumbers.PhoneNumber:
    """``phonenumbers.parse(text, region)``, three times faster for E.164 text.

    Text that is "+" and ASCII digits skips what ``parse`` spends most of its
    time on (finding the number in free text, extensions, Unicode digits) and
    takes its remaining steps directly; anything else, or any case that would
    raise, goes through ``parse`` itself, so the result (or the exception) is
    always the one ``parse`` gives (``tests/unit/test_number_facts.py`` checks
    this on random input).
    """
    digits = text[1:]
    if (
        not _FAST
        or text[:1] != "+"
        or not (digits.isascii() and digits.isdigit())
        or len(digits) <= pn_util._MIN_LENGTH_FOR_NSN
        or len(digits) > 250
    ):
        return phonenumbers.parse(text, region)
    code, national = pn_util._extract_country_code(digits)
    if code == 0 or len(national) < pn_util._MIN_LENGTH_FOR_NSN:
        return phonenumbers.parse(text, region)
    metadata = _metadata(code, phonenumbers.region_code_for_country_code(code))
    if metadata is None:
        return phonenumbers.parse(text, region)
    _, stripped, _ = pn_util._maybe_strip_national_prefix_carrier_code(national, metadata)
    if pn_util._test_number_length(stripped, metadata) not in _TOO_SHORT:
        national = stripped
    if not pn_util._MIN_LENGTH_FOR_NSN <= len(national) <= pn_util._MAX_LENGTH_FOR_NSN:
        return phonenumbers.parse(text, region)
    number = phonenumbers.PhoneNumber(country_code=code)
    pn_util._set_italian_leading_zeros_for_phone_number(national, number)
    number.national_number = int(national)
    return number


@functools.lru_cache(maxsize=1024)
def _metadata(code: int, region: str) -> phonenumbers.PhoneMetadata | None:
    """A country's numbering plan (looked up by two dictionaries and a lock
    each time otherwise)."""
    return phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(code, region)


def e164_of(parsed: phonenumbers.PhoneNumber) -> str:
    """``format_number(parsed, E164)``: "+", the country code and the national
    significant number (the format adds nothing else, not even an extension)."""
    return f"+{parsed.country_code}{phonenumbers.national_significant_number(parsed)}"


def number_kind(parsed: phonenumbers.PhoneNumber) -> tuple[str | None, int]:
    """The number's region and ``phonenumbers.number_type``, in one pass
    (``number_type`` looks the region up again, which for +1 means trying
    each country of the plan in turn)."""
    region = phonenumbers.region_code_for_number(parsed)
    if region is None or parsed.country_code is None:
        return region, PhoneNumberType.UNKNOWN
    metadata = _metadata(parsed.country_code, region)
    if metadata is None:
        return region, PhoneNumberType.UNKNOWN
    if not _FAST:
        return region, phonenumbers.number_type(parsed)
    nsn = phonenumbers.national_significant_number(parsed)
    return region, pn_util._number_type_helper(nsn, metadata)


def facts_of(
    parsed: phonenumbers.PhoneNumber, region: str | None, kind: int
) -> tuple[str, str | None]:
    """:func:`stored_facts` of a number already parsed and typed (:func:`number_kind`).

    The zones are ``time_zones_for_number``'s, whose only costly step is the
    number's type, known here.
    """
    if not _FAST:
        found: tuple[str, ...] = pn_timezone.time_zones_for_number(parsed)
    elif kind == PhoneNumberType.UNKNOWN:
        found = pn_timezone._UNKNOWN_TIME_ZONE_LIST
    elif not pn_util.is_number_type_geographical(kind, parsed.country_code or 0):
        found = pn_timezone._country_level_time_zones_for_number(parsed)
    else:
        found = pn_timezone.time_zones_for_geographical_number(parsed)
    country = region if region and region != "ZZ" else ""
    return country, _zones_column(tuple(found))


@functools.lru_cache(maxsize=4096)
def _zones_column(found: tuple[str, ...]) -> str | None:
    """The column's text for phonenumbers' zones of a prefix (a few hundred distinct)."""
    zones = " ".join(sorted(z for z in found if valid_zone(z)))
    return zones if len(zones) <= ZONES_MAX else None


def parse(e164: str) -> phonenumbers.PhoneNumber | None:
    try:
        return parse_number(e164)
    except phonenumbers.NumberParseException:
        return None


def country_of(parsed: phonenumbers.PhoneNumber | None) -> str | None:
    """The country a number belongs to (ISO code), or None if unknown."""
    if parsed is None:
        return None
    region = phonenumbers.region_code_for_number(parsed)
    return region if region and region != "ZZ" else None


def zones_of(parsed: phonenumbers.PhoneNumber | None) -> tuple[str, ...]:
    """Candidate zones for a number (several when its area code spans zones), sorted."""
    if parsed is None:
        return ()
    return tuple(sorted(z for z in pn_timezone.time_zones_for_number(parsed) if valid_zone(z)))


@functools.lru_cache(maxsize=65536)
def number_country(e164: str) -> str | None:
    return country_of(parse(e164))


@functools.lru_cache(maxsize=65536)
def zones_for_number(e164: str) -> tuple[str, ...]:
    return zones_of(parse(e164))


@functools.lru_cache(maxsize=1024)
def stored_facts(e164: str) -> tuple[str, str | None]:
    """``(number_country, number_zones)`` as the columns store them (one parse;
    cached briefly because each column's default asks for the same row).
    Zones too many for the column stay NULL: readers derive them."""
    parsed = parse(e164)
    if parsed is None:
        return "", ""
    return facts_of(parsed, *number_kind(parsed))


def country_from_column(stored: str | None, e164: str) -> str | None:
    """The number's country from its stored column, deriving it when never stored."""
    if stored is None:
        return number_country(e164)
    return stored or None


def zones_from_column(stored: str | None, e164: str) -> tuple[str, ...]:
    """The number's zones from the stored column, deriving them when never stored.

    Stored names are checked against this machine's zone database again (a
    cached lookup), so a row written elsewhere reads exactly as a fresh parse.
    """
    if stored is None:
        return zones_for_number(e164)
    return _split_zones(stored)


@functools.lru_cache(maxsize=4096)
def _split_zones(stored: str) -> tuple[str, ...]:
    return tuple(z for z in stored.split() if valid_zone(z))
