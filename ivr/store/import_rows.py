"""One portfolio row, checked: the rules a debtor CSV line must meet to land.

Every value is checked on its own (phone, amount, date, locale, zone, plain
text, document digits, payment and channel columns); a bad one raises
:class:`RowInvalid` with the reason, a stable code and the values it quotes,
so the importer reports the line and goes on. This is the only definition of
a good row: the CSV import, its PostgreSQL COPY path and the API's upload all
validate here.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import phonenumbers
from phonenumbers import PhoneNumberType

from ivr.dialog.creditor_names import check_spoken_form
from ivr.document_digits import DIGITS as DOCUMENT_DIGITS
from ivr.document_digits import DocumentInvalid, hash_document
from ivr.number_facts import e164_of, facts_of, number_kind, parse_number
from ivr.store.amounts import parse_amount
from ivr.store.channel_columns import CHANNEL_COLUMNS, channel_choices
from ivr.store.import_report import RowRejected
from ivr.store.payment_columns import PAYMENT_COLUMNS, payment_columns
from ivr.vocab.locales import LOCALES, Locale
from ivr.vocab.row_errors import RowErrorCode

REQUIRED = ("external_ref", "name", "phone", "amount", "due_date", "creditor")
_OWN_OPTIONAL = ("locale", "region", "timezone", "birth_year", "document", "creditor_spoken")
OPTIONAL: tuple[str, ...] = (*_OWN_OPTIONAL, *PAYMENT_COLUMNS, *CHANNEL_COLUMNS)
# A row's country and currency unless it says otherwise, by its locale.
LOCALE_HOME: dict[str, tuple[str, str]] = {Locale.PT_BR: ("BR", "BRL"), Locale.EN_US: ("US", "USD")}

# Lines a person answers. Premium-rate, toll-free, shared-cost, VoIP, pager,
# voicemail and the like are refused: they cost the debtor or reach no one.
PERSONAL_TYPES = frozenset(
    {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
# Each kind's English name and its word in a row error's params (``kind``).
_TYPE_NAMES = {
    PhoneNumberType.PREMIUM_RATE: ("premium-rate", "premium_rate"),
    PhoneNumberType.TOLL_FREE: ("toll-free", "toll_free"),
    PhoneNumberType.SHARED_COST: ("shared-cost", "shared_cost"),
    PhoneNumberType.VOIP: ("VoIP", "voip"),
    PhoneNumberType.PERSONAL_NUMBER: ("personal-number service", "personal_number"),
    PhoneNumberType.PAGER: ("pager", "pager"),
    PhoneNumberType.UAN: ("company (UAN)", "uan"),
    PhoneNumberType.VOICEMAIL: ("voicemail", "voicemail"),
}
FORMULA_START = ("=", "+", "-", "@")
# C0/C1 controls, zero-width and bidirectional marks, line/paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
TEXT_LIMITS = {"external_ref": 64, "name": 200, "creditor": 200, "creditor_spoken": 200}


PhoneFacts = tuple[str, str | None]  # (number_country, number_zones) as stored
_PHONE_SPLIT = re.compile(r"[;|]")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SLASH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


@dataclass(frozen=True)
class DebtorRow:
    line: int
    external_ref: str
    name: str
    phones: tuple[str, ...]
    amount_cents: int
    currency: str
    due_date: dt.date
    creditor: str
    locale: str
    country: str
    region: str | None
    timezone: str | None
    birth_year: int | None
    creditor_spoken: str | None = None  # in the row's locale (ivr.dialog.creditor_names)
    # A salted hash of the document number's last digits; never the number.
    document_digits: str | None = None
    # The payment columns the file has (ivr.store.payment_columns), checked;
    # None clears a detail, a column the file lacks is left as it was.
    payment: dict[str, str | None] = field(default_factory=dict)
    # The channel columns the row gives (ivr.store.channel_columns).
    channels: tuple[tuple[str, object], ...] = ()
    # Each phone's (number_country, number_zones), as ivr.number_facts stores them.
    phone_facts: tuple[PhoneFacts, ...] = ()


class RowInvalid(RowRejected):
    """A debtor row's value the row cannot be imported with (reason, code, values)."""


def parse_date(raw: str, country: str) -> dt.date:
    """ISO ``YYYY-MM-DD`` always; ``DD/MM/YYYY`` in Brazil, ``MM/DD/YYYY`` in the US."""
    text = raw.strip()
    try:
        if _ISO_DATE.fullmatch(text):
            return dt.date.fromisoformat(text)
        m = _SLASH_DATE.fullmatch(text)
        if m:
            a, b, year = int(m[1]), int(m[2]), int(m[3])
            day, month = (a, b) if country == "BR" else (b, a)
            return dt.date(year, month, day)
    except ValueError as exc:
        raise RowInvalid(
            f"due_date {raw!r} is not a real date ({exc})",
            RowErrorCode.DATE_NOT_REAL,
            {"column": "due_date", "value": raw},
        ) from None
    fmt = "YYYY-MM-DD or DD/MM/YYYY" if country == "BR" else "YYYY-MM-DD or MM/DD/YYYY"
    raise RowInvalid(
        f"due_date {raw!r} is not a date ({fmt})",
        RowErrorCode.DATE_INVALID,
        {"column": "due_date", "value": raw, "format": "dmy" if country == "BR" else "mdy"},
    )


def parse_phones(raw: str, country: str) -> tuple[tuple[str, ...], tuple[PhoneFacts, ...]]:
    """One or more personal numbers of ``country``, separated by ';' or '|', in E.164,
    with each one's stored facts (``ivr.number_facts``).

    The order is kept: the first number is the one called first. Each number
    is parsed and typed once (``parse_number``, ``number_kind``): a million
    rows cannot afford a second pass.
    """
    parts = [p.strip() for p in _PHONE_SPLIT.split(raw) if p.strip()]
    if not parts:
        raise RowInvalid("phone is empty", RowErrorCode.EMPTY, {"column": "phone"})
    out: list[str] = []
    facts: list[PhoneFacts] = []
    for part in parts:
        try:
            num = parse_number(part, country)
        except phonenumbers.NumberParseException as exc:
            raise RowInvalid(
                f"phone {part!r} is not a phone number ({exc})",
                RowErrorCode.PHONE_UNREADABLE,
                {"value": part},
            ) from None
        where, kind = number_kind(num)  # UNKNOWN: not a valid number anywhere
        if where is None or kind == PhoneNumberType.UNKNOWN:
            raise RowInvalid(
                f"phone {part!r} is not a valid number", RowErrorCode.PHONE_INVALID, {"value": part}
            )
        if where != country:
            raise RowInvalid(
                f"phone {part!r} is a number of {where or 'no country'}, "
                f"outside the campaign's countries for this debtor ({country})",
                RowErrorCode.PHONE_FOREIGN,
                {"value": part, "found": where or "", "country": country},
            )
        if kind not in PERSONAL_TYPES:
            what, word = _TYPE_NAMES.get(kind, ("unknown-type", "unknown"))
            raise RowInvalid(
                f"phone {part!r} is a {what} number, not a personal line",
                RowErrorCode.PHONE_NOT_PERSONAL,
                {"value": part, "kind": word},
            )
        e164 = e164_of(num)
        if e164 not in out:
            out.append(e164)
            facts.append(facts_of(num, where, kind))
    return tuple(out), tuple(facts)


def plain_text(column: str, value: str) -> str:
    """Free text as people write it: no control characters, no spreadsheet formula.

    A name like ``=HYPERLINK(...)`` is an attack on whoever opens an export,
    not a person: the row is refused rather than stored as is.
    """
    if not value:
        raise RowInvalid(f"{column} is empty", RowErrorCode.EMPTY, {"column": column})
    if len(value) > TEXT_LIMITS[column]:
        raise RowInvalid(
            f"{column} is longer than {TEXT_LIMITS[column]} characters",
            RowErrorCode.TOO_LONG,
            {"column": column, "limit": TEXT_LIMITS[column]},
        )
    if value.startswith(FORMULA_START):
        raise RowInvalid(
            f"{column} begins with {value[0]!r}: looks like a spreadsheet formula",
            RowErrorCode.FORMULA,
            {"column": column, "char": value[0]},
        )
    if _CONTROL.search(value):
        raise RowInvalid(
            f"{column} contains control characters",
            RowErrorCode.CONTROL_CHARS,
            {"column": column},
        )
    return value


@functools.cache
def _subdivisions(country: str) -> frozenset[str]:
    """The country's states (building a holiday table per row cost 0.4 ms)."""
    return frozenset(holidays.country_holidays(country).subdivisions)


@functools.lru_cache(maxsize=1024)
def _zone_exists(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def validate_row(line: int, row: dict[str, str], default_locale: str) -> DebtorRow:
    def get(name: str) -> str:
        return (row.get(name) or "").strip()

    ref = plain_text("external_ref", get("external_ref"))
    name = plain_text("name", get("name"))
    locale = get("locale") or default_locale
    if locale not in LOCALES:
        supported = " or ".join(LOCALES)
        raise RowInvalid(
            f"locale {locale!r} is not supported ({supported})",
            RowErrorCode.LOCALE_UNSUPPORTED,
            {"value": locale, "supported": ", ".join(LOCALES)},
        )
    country, currency = LOCALE_HOME[locale]
    region = get("region").upper() or None
    if region is not None and region not in _subdivisions(country):
        raise RowInvalid(
            f"region {region!r} is not a state of {country}",
            RowErrorCode.REGION_UNKNOWN,
            {"value": region, "country": country},
        )
    zone = get("timezone") or None
    if zone is not None and not _zone_exists(zone):
        raise RowInvalid(
            f"timezone {zone!r} is not an IANA time zone",
            RowErrorCode.TIMEZONE_UNKNOWN,
            {"value": zone},
        )
    birth_raw = get("birth_year")
    birth_year = None
    if birth_raw:
        if not birth_raw.isdigit() or not 1900 <= int(birth_raw) <= dt.date.today().year:
            raise RowInvalid(
                f"birth_year {birth_raw!r} is not a year",
                RowErrorCode.BIRTH_YEAR_INVALID,
                {"value": birth_raw},
            )
        birth_year = int(birth_raw)
    document_raw = get("document")
    try:
        document_digits = hash_document(document_raw) if document_raw else None
    except DocumentInvalid as exc:  # never the number itself
        raise RowInvalid(
            str(exc), RowErrorCode.DOCUMENT_TOO_SHORT, {"digits": DOCUMENT_DIGITS}
        ) from None
    creditor = plain_text("creditor", get("creditor"))
    spoken = None
    if get("creditor_spoken"):
        raw = plain_text("creditor_spoken", get("creditor_spoken"))
        try:
            spoken = check_spoken_form(raw, locale)
        except ValueError as exc:
            raise RowInvalid(
                f"creditor_spoken {raw!r} {exc}", RowErrorCode.SPOKEN_FORM_INVALID, {"value": raw}
            ) from None
    payment = payment_columns(row)  # PaymentDetailInvalid: a RowRejected with its code
    phones, facts = parse_phones(get("phone"), country)
    return DebtorRow(
        line=line,
        external_ref=ref,
        name=name,
        phones=phones,
        amount_cents=parse_amount(get("amount")),
        currency=currency,
        due_date=parse_date(get("due_date"), country),
        creditor=creditor,
        locale=locale,
        country=country,
        region=region,
        timezone=zone,
        birth_year=birth_year,
        creditor_spoken=spoken,
        document_digits=document_digits,
        payment=payment,
        channels=channel_choices(row),
        phone_facts=facts,
    )
