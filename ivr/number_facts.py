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
defaults, e.g. a bulk ``COPY``), in which case readers derive the facts here.
"""

from __future__ import annotations

import functools
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
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


def parse(e164: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(e164)
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
    zones = " ".join(zones_of(parsed))
    return country_of(parsed) or "", zones if len(zones) <= ZONES_MAX else None


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
